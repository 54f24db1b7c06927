// Launches Debian's Chromium through playwright-core and gives each spec signed-in pages.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const PASSWORD = 'Civgrid@2026';
export const baseUrl = () => inject('baseUrl').replace(/\/$/, '');

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh context: desktop for the console, a phone for the field app. */
export async function context(browser: Browser, kind: 'desktop' | 'phone'): Promise<BrowserContext> {
  const ctx = await browser.newContext(
    kind === 'phone'
      ? {
          baseURL: baseUrl(),
          viewport: { width: 390, height: 844 },
          deviceScaleFactor: 2,
          isMobile: true,
          hasTouch: true,
          locale: 'zh-CN',
          timezoneId: 'Asia/Shanghai',
          geolocation: { longitude: 115.9866, latitude: 36.4537 },
          permissions: ['geolocation'],
        }
      : { baseURL: baseUrl(), viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' },
  );
  ctx.setDefaultTimeout(20_000);
  return ctx;
}

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Saves a screenshot under web/e2e/artifacts (not committed). */
export async function shot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: false });
}

/** Calls the API as `username` (a separate cookie jar from the pages). */
export async function api(username: string) {
  const login = await fetch(`${baseUrl()}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (!login.ok) throw new Error(`login ${username}: ${login.status}`);
  const { token } = (await login.json()) as { token: string };
  return async <T = unknown>(path: string, init: RequestInit = {}): Promise<T> => {
    const r = await fetch(`${baseUrl()}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${r.status} ${await r.text()}`);
    return (r.status === 204 ? undefined : await r.json()) as T;
  };
}
