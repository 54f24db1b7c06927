// Area scope in the console: a township centre of 茌平区 opens, by its address, an event of
// 古楼街道 (东昌府区) and gets a refusal, not the event; the API refuses it too.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { api, baseUrl, launch, shot } from '../lib/browser';
import { consoleSignIn, statusOf } from '../lib/console';

type Page = { items: { id: string; case_no: string; description: string; grid_code: string }[] };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

it('town_centre2 cannot open an event of 古楼街道', async () => {
  const tc = await api('town_centre');
  const { items } = await tc<Page>('/api/events?area=371502001&per_page=1');
  expect(items.length).toBe(1);
  const ev = items[0];
  expect(ev.grid_code.startsWith('371502001')).toBe(true);

  // The API refuses it outright.
  expect([403, 404]).toContain(await statusOf(baseUrl(), 'town_centre2', `/api/events/${ev.id}`));

  // The console shows a refusal, and nothing of the event.
  const page = await consoleSignIn(browser, 'town_centre2');
  await page.goto(`/events/${ev.id}`);
  const refusal = page.getByTestId('event-error');
  await refusal.waitFor();
  expect(await refusal.innerText()).toMatch(/无权|不存在|管辖|辖区/);
  expect(await page.getByTestId('event-page').count()).toBe(0);
  expect(await page.getByText(ev.case_no).count()).toBe(0);
  expect(await page.getByTestId('event-actions').count()).toBe(0);
  await shot(page, 'console-scope-refused');

  // The same address works for the centre it belongs to.
  const own = await consoleSignIn(browser, 'town_centre');
  await own.goto(`/events/${ev.id}`);
  await own.getByTestId('event-page').waitFor();
  expect(await own.getByText(ev.case_no).count()).toBeGreaterThan(0);
});
