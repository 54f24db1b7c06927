// The statistics screen shows the server's indicators: every card and every table cell
// matches GET /api/stats/events for the same area, period and grouping; the charts carry the
// same figures and the table exports to Excel. Also: the console's first contentful paint
// on the sign-in page (≤ 2 s), and screenshots of the main screens.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, context, launch, shot } from '../lib/browser';
import { consoleSignIn } from '../lib/console';

type Row = { key: string; name: string; counts: Record<string, number>; rates: Record<string, number | null> };
type View = { area: string; from: string; to: string; by: string; total: Row; rows: Row[] };

const COUNTS = ['reported', 'should_close', 'closed'];
const RATES = [
  'closure_rate',
  'on_time_closure_rate',
  'rework_rate',
  'on_time_dispatch_rate',
  'accurate_dispatch_rate',
  'valid_report_rate',
  'on_time_verification_rate',
  'satisfaction_rate',
];
const rate = (v: number | null | undefined) => (v == null ? '—' : v.toFixed(2) + '%');
const num = (v: number | null | undefined) => (v == null ? '—' : String(v));

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

it('first contentful paint of the sign-in page is within 2 s', async () => {
  const ctx = await context(browser, 'desktop');
  const page = await ctx.newPage();
  await page.goto('/login', { waitUntil: 'load' });
  await page.getByTestId('login-submit').waitFor();
  const fcp = await page.evaluate(
    () => performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')?.startTime ?? -1,
  );
  console.log(`console first-contentful-paint: ${fcp.toFixed(0)} ms`);
  expect(fcp).toBeGreaterThan(0);
  expect(fcp).toBeLessThanOrEqual(2000);
  await ctx.close();
});

/** Checks cards and table of the page against the API's view of the same filter. */
async function matches(page: Page, view: View) {
  for (const k of COUNTS.filter((k) => k !== 'should_close'))
    expect(await page.getByTestId('stat-card-' + k).getAttribute('data-value')).toBe(String(view.total.counts[k]));
  for (const k of RATES) {
    const card = page.getByTestId('stat-card-' + k);
    expect(await card.getAttribute('data-value')).toBe(view.total.rates[k] == null ? '' : String(view.total.rates[k]));
    expect(await card.innerText()).toContain(rate(view.total.rates[k]));
  }
  expect(await page.getByTestId('stat-card-mean_handle_hours').getAttribute('data-value')).toBe(
    view.total.rates.mean_handle_hours == null ? '' : String(view.total.rates.mean_handle_hours),
  );
  const table = page.getByTestId('stats-table');
  await expect.poll(() => table.locator('tbody tr').count()).toBe(view.rows.length);
  for (const r of view.rows) {
    const tr = table.locator('tbody tr', { has: page.getByTestId('stats-row-' + r.key) });
    expect(await tr.getByTestId('stats-row-' + r.key).innerText()).toBe(r.name);
    for (const k of COUNTS) expect(await tr.locator(`[data-col=${k}]`).innerText()).toBe(num(r.counts[k]));
    for (const k of RATES) expect(await tr.locator(`[data-col=${k}]`).innerText()).toBe(rate(r.rates[k]));
  }
}

it('cards, table and charts match the API; the table exports to Excel', async () => {
  const page = await consoleSignIn(browser, 'county_centre');
  await page.getByTestId('nav-stats').click();
  await page.getByTestId('stat-card-reported').waitFor();
  const [from, to] = await page.locator('[data-testid=stats-filters] input.el-range-input').evaluateAll((els) =>
    els.map((e) => (e as HTMLInputElement).value),
  );
  expect(from).toMatch(/^\d{4}-\d{2}-01$/);
  const cc = await api('county_centre');

  // By area (the townships of 东昌府区).
  const byArea = await cc<View>(`/api/stats/events?area=371502&by=area&from=${from}&to=${to}`);
  expect(byArea.rows.length).toBeGreaterThan(1);
  await matches(page, byArea);
  const top = [...byArea.rows].sort((a, b) => b.counts.reported - a.counts.reported)[0];
  const texts = (id: string) =>
    page.getByTestId(id).locator('svg text').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
  await expect.poll(() => texts('chart-rank-count')).toContain(top.name);
  expect(await texts('chart-rank-count')).toContain(String(top.counts.reported));
  const months = await texts('chart-trend');
  expect(months.filter((m) => /^\d{4}-\d{2}$/.test(m)).length).toBe(6);
  expect(months).toContain(to.slice(0, 7));
  await shot(page, 'console-stats');

  // By department, chosen with a click.
  await page.getByTestId('stats-by').getByText('按部门').click();
  await page.getByTestId('stats-search').click();
  const byDept = await cc<View>(`/api/stats/events?area=371502&by=department&from=${from}&to=${to}`);
  await expect.poll(() => page.getByTestId('stats-table').locator('tbody tr').count()).toBe(byDept.rows.length);
  await matches(page, byDept);

  // The table as an Excel file, written in the browser.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('stats-export').click()]);
  expect(download.suggestedFilename()).toBe(`civgrid-stats-371502-department-${from}-${to}.xlsx`);
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(path!);
  expect(bytes.subarray(0, 2).toString()).toBe('PK');
  expect(bytes.length).toBeGreaterThan(2000);
});

it('screenshots of the main screens', async () => {
  const page = await consoleSignIn(browser, 'town_centre');
  await page.getByTestId('nav-events').click();
  await page.locator('[data-row=event]').first().waitFor();
  await shot(page, 'console-workbench');
  await page.locator('[data-row=event]').first().click();
  await page.getByTestId('event-page').waitFor();
  await page.waitForTimeout(800);
  await shot(page, 'console-event');
  await page.getByTestId('nav-map').click();
  await page.getByTestId('map').locator('path.leaflet-interactive').first().waitFor();
  await page.waitForTimeout(800);
  await shot(page, 'console-map');
});
