// Starts `civgrid demo` on a fresh database in a scratch folder for the whole e2e run, and
// stops it afterwards. The binary is $CIVGRID_BIN (scripts/test builds it in release mode).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

let child: ChildProcess | undefined;
let dir: string | undefined;

export async function setup(project: TestProject) {
  if (process.env.CIVGRID_E2E_URL) {
    project.provide('baseUrl', process.env.CIVGRID_E2E_URL);
    return;
  }
  const bin = process.env.CIVGRID_BIN ?? '/var/cache/civgrid-target/release/civgrid';
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'civgrid-e2e-'));
  const log = createWriteStream(join(dir, 'server.log'));
  child = spawn(bin, ['demo', '--data-dir', join(dir, 'demo'), '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CIVGRID_TICK_SECONDS: '3600' },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 280_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`civgrid demo exited (${child.exitCode}); see ${dir}/server.log`);
    try {
      const r = await fetch(`${baseUrl}/api/health`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`civgrid demo did not start; see ${dir}/server.log`);
    await new Promise((r) => setTimeout(r, 500));
  }
  project.provide('baseUrl', baseUrl);
}

export async function teardown() {
  child?.kill('SIGTERM');
  if (dir && !process.env.CIVGRID_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
}
