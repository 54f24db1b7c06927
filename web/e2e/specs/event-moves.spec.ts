// The closed loop through the console's event page, each move by its own form: the township
// centre accepts and dispatches to a department (the form shows the computed deadline); a
// stale second page gets a conflict and reloads; the department signs for it and asks for an
// extension, which the centre approves; the county centre supervises and the department
// replies, then feeds back with a photo; the grid chief verifies; the centre evaluates. At
// every step the page offers exactly the moves the API lists.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, launch, shot } from '../lib/browser';
import { consoleSignIn, move, openEvent } from '../lib/console';

const GRID = '371502001001001';
const DEPT = '371502-cgj';
type Detail = { id: string; state: string; actions: string[]; timeline: { action: string; photos: unknown[] }[] };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});


/** The page's action buttons are exactly the API's `actions` for that user. */
async function sameActions(page: Page, username: string, id: string) {
  const d = await (await api(username))<Detail>(`/api/events/${id}`);
  const shown = await page.getByTestId('event-actions').locator('[data-testid^=action-]').evaluateAll((els) =>
    els.map((e) => e.getAttribute('data-testid')!.slice('action-'.length)),
  );
  expect(shown.sort()).toEqual([...d.actions].sort());
}


it('takes an event round the loop in the console', async () => {
  const marker = 'E2E' + Math.random().toString(36).slice(2, 8);
  const gw = await api('grid_worker');
  const { event } = await gw<{ event: { id: string } }>('/api/events', {
    method: 'POST',
    body: JSON.stringify({ category: '0102', description: `邻里纠纷 ${marker}`, grid_code: GRID }),
  });
  const id = event.id;

  // Accept; a second, stale page then gets a conflict and reloads.
  const centre = await consoleSignIn(browser, 'town_centre');
  await openEvent(centre, id, '待受理');
  await sameActions(centre, 'town_centre', id);
  const stale = await centre.context().newPage();
  await openEvent(stale, id, '待受理');
  await move(centre, 'accept');
  await expect.poll(() => centre.getByTestId('event-state').innerText()).toBe('待派遣');
  await stale.getByTestId('action-accept').click();
  await stale.getByTestId('move-dialog').getByTestId('dialog-confirm').click();
  await stale.getByText('已被他人更新').waitFor();
  await expect.poll(() => stale.getByTestId('event-state').innerText()).toBe('待派遣');
  await stale.close();

  // Dispatch to the department, with the deadline shown before confirming.
  await sameActions(centre, 'town_centre', id);
  await move(centre, 'dispatch', async (dialog) => {
    await dialog.getByTestId('dispatch-department').click();
    await centre.locator('.el-select-dropdown__item:visible', { hasText: DEPT }).click();
    await expect.poll(() => dialog.getByTestId('dispatch-deadline').innerText()).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    await shot(centre, 'console-dispatch');
  });
  await expect.poll(() => centre.getByTestId('event-state').innerText()).toBe('待签收');

  // The department signs for it and asks for two more working days.
  const dept = await consoleSignIn(browser, 'dept_liaison');
  await openEvent(dept, id, '待签收');
  await sameActions(dept, 'dept_liaison', id);
  await move(dept, 'sign_for');
  await expect.poll(() => dept.getByTestId('event-state').innerText()).toBe('处置中');
  await move(dept, 'request_extension', async (d) => {
    await d.getByTestId('extension-days').locator('input').fill('2');
    await d.getByTestId('move-note').fill('需协调多方');
  });
  await dept.getByTestId('event-extensions').getByText('待审批').waitFor();

  // The centre approves the extension.
  await openEvent(centre, id, '处置中');
  await sameActions(centre, 'town_centre', id);
  await move(centre, 'decide_extension', async (d) => {
    await d.getByTestId('extension-pending').waitFor();
  });
  await centre.getByTestId('event-extensions').getByText('已批准').waitFor();

  // The county centre supervises; the department replies.
  const county = await consoleSignIn(browser, 'county_centre');
  await openEvent(county, id, '处置中');
  await sameActions(county, 'county_centre', id);
  await move(county, 'supervise', async (d) => {
    await expect.poll(() => d.getByTestId('supervise-due').innerText()).toMatch(/\d{4}-\d{2}-\d{2}/);
    await d.getByTestId('move-note').fill('请加快办理');
  });
  await county.getByTestId('event-supervisions').getByText('请加快办理').waitFor();
  await openEvent(dept, id, '处置中');
  await move(dept, 'reply', async (d) => {
    await d.getByTestId('move-note').fill('已安排人员');
  });
  await dept.getByTestId('event-supervisions').getByText('已安排人员', { exact: false }).waitFor();

  // The department feeds back with a photo (multipart).
  const photo = await dept.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 480;
    const g = c.getContext('2d')!;
    g.fillStyle = '#1f5fa8';
    g.fillRect(0, 0, 640, 480);
    return c.toDataURL('image/jpeg', 0.9).split(',')[1];
  });
  await move(dept, 'handle', async (d) => {
    await d.getByTestId('move-photos').setInputFiles({ name: 'site.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(photo, 'base64') });
    await d.getByTestId('move-note').fill('已调解完毕');
  });
  await expect.poll(() => dept.getByTestId('event-state').innerText()).toBe('待核查');
  const handled = await gw<Detail>(`/api/events/${id}`);
  expect(handled.timeline.find((m) => m.action === 'handle')!.photos.length).toBe(1);

  // The grid chief verifies; the centre evaluates and closes.
  const chief = await consoleSignIn(browser, 'grid_chief');
  await openEvent(chief, id, '待核查');
  await sameActions(chief, 'grid_chief', id);
  await move(chief, 'verify_pass');
  await expect.poll(() => chief.getByTestId('event-state').innerText()).toBe('待评价');
  await openEvent(centre, id, '待评价');
  await sameActions(centre, 'town_centre', id);
  await move(centre, 'evaluate', async (d) => {
    await d.getByTestId('evaluate-satisfied').click();
    await d.getByTestId('move-note').fill('处理及时');
  });
  await expect.poll(() => centre.getByTestId('event-state').innerText()).toBe('已结案');
  expect(await centre.getByTestId('event-actions').locator('[data-testid^=action-]').count()).toBe(0);
  await shot(centre, 'console-event-closed');

  const closed = await gw<Detail>(`/api/events/${id}`);
  expect(closed.state).toBe('closed');
  expect(closed.timeline.map((m) => m.action)).toEqual(
    expect.arrayContaining(['report', 'accept', 'dispatch', 'sign_for', 'request_extension', 'decide_extension', 'supervise', 'reply', 'handle', 'verify_pass', 'evaluate']),
  );
});
