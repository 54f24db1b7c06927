// The event list with the demo's 20,000+ events stays responsive: the city centre's workbench
// shows its first page, jumps deep into the list, filters by keyword and by light, each within
// about half a second here (server-side paging; the page never loads the whole list). Figures
// are printed; the assertions only catch a list that stopped paging.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, launch, shot } from '../lib/browser';
import { consoleSignIn } from '../lib/console';

type Page1 = { total: number; items: { id: string; case_no: string }[] };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** Runs `act`, then waits until the table shows `firstId` (and, if given, exactly `rows` rows:
 * a filter whose match is already on screen is only done when the other rows are gone);
 * answers the milliseconds. */
async function timed(page: Page, act: () => Promise<void>, firstId: string, rows?: number): Promise<number> {
  const t = Date.now();
  await act();
  await page.getByTestId(`event-row-${firstId}`).waitFor();
  if (rows !== undefined) await expect.poll(() => page.locator('[data-row=event]').count(), { interval: 20 }).toBe(rows);
  return Date.now() - t;
}

it('pages, jumps and filters over 20,000+ events without loading them', async () => {
  const city = await api('city_centre');
  const all = await city<Page1>('/api/events?per_page=20');
  expect(all.total).toBeGreaterThanOrEqual(20_000);

  const page = await consoleSignIn(browser, 'city_centre');
  const first = await timed(page, () => page.goto('/events').then(() => undefined), all.items[0].id);
  const rows = await page.locator('[data-row=event]').count();
  expect(rows).toBe(20);
  await expect.poll(() => page.getByTestId('event-pager').innerText()).toContain(String(all.total));

  // Deep page: type the page number into the jumper.
  const deepNo = Math.floor(all.total / 20) - 5;
  const deep = await city<Page1>(`/api/events?per_page=20&page=${deepNo}`);
  const jumper = page.getByTestId('event-pager').locator('.el-pagination__jump input');
  const jump = await timed(
    page,
    async () => {
      await jumper.fill(String(deepNo));
      await jumper.press('Enter');
    },
    deep.items[0].id,
  );

  // Keyword: a case number.
  const target = deep.items[3];
  const keyword = await timed(
    page,
    async () => {
      await page.getByTestId('filter-q').fill(target.case_no);
      await page.getByTestId('filter-q').press('Enter');
    },
    target.id,
    1,
  );

  // Overdue queue over the whole city.
  await page.getByTestId('filter-reset').click();
  const overdue = await city<Page1>('/api/events?per_page=20&queue=overdue');
  expect(overdue.total).toBeGreaterThan(0);
  const queue = await timed(page, () => page.getByTestId('queue-overdue').click(), overdue.items[0].id);
  await shot(page, 'console-workbench-city');

  console.log(
    `workbench over ${all.total} events: first page ${first} ms (with sign-in page load), ` +
      `jump to page ${deepNo} ${jump} ms, keyword ${keyword} ms, overdue queue ${queue} ms`,
  );
  // The figures above are the measurement (medians go in the issue note); the bounds here only
  // catch a list that stopped paging on the server, with room for a loaded CI machine.
  for (const ms of [jump, keyword, queue]) expect(ms).toBeLessThan(3000);
  expect(first).toBeLessThan(5000);
});
