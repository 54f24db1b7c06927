// A grid boundary change through the console: the grid chief of 古城社区 draws a new
// boundary for one of its grids on the map (a shrunken copy of the current one, so it stays
// inside and cannot overlap a neighbour) and files the request; the township centre of
// 古楼街道 approves it in the console; the history then shows the new version, and the API
// agrees.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, launch, shot } from '../lib/browser';
import { consoleSignIn } from '../lib/console';

const GRID = '371502001001002';

type Ring = number[][];
type Geometry = { type: string; coordinates: unknown };
type Version = { id: string; boundary: Geometry; request_id?: string | null; valid_to?: string | null };
type Request = { id: string; grid_code: string; reason: string; status: string; boundary: Geometry };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

function outer(g: Geometry): Ring {
  return g.type === 'MultiPolygon' ? (g.coordinates as Ring[][])[0][0] : (g.coordinates as Ring[])[0];
}

function inside([x, y]: number[], ring: Ring): boolean {
  let c = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/** Screen points of the selected grid's outline, pulled 20 % towards its centre. */
async function shrunkenOutline(page: Page): Promise<{ x: number; y: number }[]> {
  const path = page.locator('path.grid-selected');
  await path.waitFor();
  return path.evaluate((el) => {
    const p = el as SVGPathElement;
    const m = p.getScreenCTM()!;
    const pts = [...(p.getAttribute('d') ?? '').matchAll(/[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)/g)].map(([, x, y]) => {
      const q = new DOMPoint(Number(x), Number(y)).matrixTransform(m);
      return { x: q.x, y: q.y };
    });
    const cx = pts.reduce((s, q) => s + q.x, 0) / pts.length;
    const cy = pts.reduce((s, q) => s + q.y, 0) / pts.length;
    return pts.map((q) => ({ x: cx + (q.x - cx) * 0.8, y: cy + (q.y - cy) * 0.8 }));
  });
}

it('the grid chief draws a boundary, the township centre approves it, the history shows it', async () => {
  const tc = await api('town_centre');
  const before = await tc<Version[]>(`/api/grids/${GRID}/boundaries`);
  const oldRing = outer(before.find((v) => !v.valid_to)!.boundary);
  const reason = 'E2E 边界调整 ' + Math.random().toString(36).slice(2, 8);

  // The grid chief draws and files the request.
  const chief = await consoleSignIn(browser, 'grid_chief');
  await chief.getByTestId('nav-grids').click();
  await chief.getByTestId('grid-row-' + GRID).click();
  await chief.getByTestId('grid-panel').waitFor();
  await chief.waitForTimeout(600); // the map's fit animation
  const points = await shrunkenOutline(chief);
  expect(points.length).toBeGreaterThanOrEqual(4);
  await chief.getByTestId('grid-edit').click();
  await chief.getByTestId('grid-redraw').click();
  await expect.poll(() => chief.getByTestId('grid-vertex-count').innerText()).toMatch(/\b0\b/);
  for (const p of points) await chief.mouse.click(p.x, p.y);
  await expect.poll(() => chief.getByTestId('grid-vertex-count').innerText()).toContain(String(points.length));
  // Undo takes the last vertex away; put it back.
  await chief.getByTestId('grid-undo').click();
  await expect.poll(() => chief.getByTestId('grid-vertex-count').innerText()).toContain(String(points.length - 1));
  await chief.mouse.click(points.at(-1)!.x, points.at(-1)!.y);
  await shot(chief, 'console-grid-drawn');
  await chief.getByTestId('grid-finish').click();
  await chief.getByTestId('grid-reason').fill(reason);
  await chief.getByTestId('grid-submit-dialog').getByTestId('dialog-confirm').click();
  await chief.getByTestId('grid-panel').waitFor();

  // The request is there, inside the old boundary.
  let req: Request | undefined;
  await expect
    .poll(async () => {
      req = (await tc<Request[]>('/api/grid-change-requests?status=pending')).find((r) => r.reason === reason);
      return req?.grid_code;
    })
    .toBe(GRID);
  const newRing = outer(req!.boundary);
  expect(newRing.length).toBe(points.length + 1);
  for (const p of newRing) expect(inside(p, oldRing)).toBe(true);

  // The township centre approves it in the console.
  const centre = await consoleSignIn(browser, 'town_centre');
  await centre.getByTestId('nav-grids').click();
  await centre.getByTestId('grid-requests-tab').click();
  await centre.getByTestId('grid-request-' + req!.id).click();
  await centre.getByTestId('grid-request-panel').waitFor();
  await shot(centre, 'console-grid-request');
  await centre.getByTestId('grid-approve').click();
  await centre.getByTestId('grid-decision-note').fill('同意');
  await centre.getByTestId('grid-decision-dialog').getByTestId('dialog-confirm').click();
  await centre.getByTestId('grid-panel').waitFor();

  // The history in the console shows one more version.
  await centre.getByTestId('grid-history').click();
  const list = centre.getByTestId('grid-history-list');
  await list.waitFor();
  await expect.poll(() => list.locator('tbody tr').count()).toBe(before.length + 1);
  expect(await centre.getByTestId('grid-version-0').innerText()).toBe(String(before.length + 1));
  await shot(centre, 'console-grid-history');

  // And the API agrees: the current version is the approved request's boundary.
  const after = await tc<Version[]>(`/api/grids/${GRID}/boundaries`);
  expect(after.length).toBe(before.length + 1);
  const current = after.filter((v) => !v.valid_to);
  expect(current.length).toBe(1);
  expect(current[0].request_id).toBe(req!.id);
  expect(outer(current[0].boundary)).toEqual(newRing);
});
