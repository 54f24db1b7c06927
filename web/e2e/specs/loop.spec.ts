// The whole loop across roles and both apps: a grid worker reports with a photo in the field
// app → the township operator accepts and dispatches in the console → the department liaison
// signs for it and feeds back with a photo → the grid worker verifies in the field app → the
// operator evaluates and sees it closed with its evaluation.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { api, launch, shot } from '../lib/browser';
import { consoleSignIn, move, openEvent } from '../lib/console';
import { canvasJpeg, fieldSignIn } from '../lib/field';

const DEPT = '371502-sfj';

type Detail = {
  id: string;
  state: string;
  evaluation?: string | null;
  timeline: { action: string; actor_name: string; photos: unknown[] }[];
  photos?: unknown[];
};

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});





it('goes from a field report to a closed, evaluated event across four roles', async () => {
  const marker = 'LOOP' + Math.random().toString(36).slice(2, 10);
  const gw = await api('grid_worker');
  const find = async () =>
    (await gw<{ items: { id: string }[] }>(`/api/events?q=${marker}`)).items.map((e) => e.id);

  // 1. The grid worker reports with a photo from the phone; GPS puts it in their grid.
  const worker = await fieldSignIn(browser, 'grid_worker');
  await worker.getByTestId('tab-report').click();
  await worker.getByTestId('category-picker').click();
  await worker.getByTestId('category-option').filter({ hasText: '邻里纠纷' }).click();
  await worker.getByTestId('description').fill(`邻里因噪音发生争执 ${marker}`);
  await worker.getByTestId('address').locator('input').fill('古城社区 3 号楼');
  await worker
    .getByTestId('photo-input')
    .setInputFiles({ name: 'scene.jpg', mimeType: 'image/jpeg', buffer: await canvasJpeg(worker, '#8fb3d9') });
  await worker.getByTestId('photo-thumb').first().waitFor();
  await expect.poll(() => worker.getByTestId('report-position').innerText()).toContain('115.8617');
  await worker.locator('[data-testid=category-popup]').waitFor({ state: 'hidden' });
  await shot(worker, 'loop-field-report');
  await worker.getByTestId('submit').click();
  await expect.poll(find, { timeout: 20_000 }).toHaveLength(1);
  const [id] = await find();
  const reported = await gw<Detail>(`/api/events/${id}`);
  expect(reported.state).toBe('reported');
  expect(reported.timeline[0].photos).toHaveLength(1);

  // 2. The township operator accepts and dispatches to 司法局 in the console.
  const centre = await consoleSignIn(browser, 'town_centre');
  await centre.getByTestId('queue-to_accept').click();
  await centre.getByTestId('filter-q').fill(marker);
  await centre.getByTestId('filter-q').press('Enter');
  await centre.getByTestId(`event-row-${id}`).click();
  await expect.poll(() => centre.getByTestId('event-state').innerText()).toBe('待受理');
  await centre.getByTestId('event-photos').locator('img').first().waitFor();
  await move(centre, 'accept');
  await expect.poll(() => centre.getByTestId('event-state').innerText()).toBe('待派遣');
  await move(centre, 'dispatch', async (dialog) => {
    await dialog.getByTestId('dispatch-department').click();
    await centre.locator('.el-select-dropdown__item:visible', { hasText: DEPT }).click();
    await expect.poll(() => dialog.getByTestId('dispatch-deadline').innerText()).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  });
  await expect.poll(() => centre.getByTestId('event-state').innerText()).toBe('待签收');

  // 3. The department's liaison signs for it and feeds back with a photo.
  const liaison = await consoleSignIn(browser, 'liaison_sfj');
  await openEvent(liaison, id, '待签收');
  await move(liaison, 'sign_for');
  await expect.poll(() => liaison.getByTestId('event-state').innerText()).toBe('处置中');
  const after = await canvasJpeg(liaison, '#2e9e44');
  await move(liaison, 'handle', async (d) => {
    await d.getByTestId('move-photos').setInputFiles({ name: 'after.jpg', mimeType: 'image/jpeg', buffer: after });
    await d.getByTestId('move-note').fill('已组织双方调解，达成协议');
  });
  await expect.poll(() => liaison.getByTestId('event-state').innerText()).toBe('待核查');
  await shot(liaison, 'loop-console-handled');

  // 4. The grid worker verifies it from 待回访 on the phone.
  await worker.getByTestId('tab-tasks').click();
  await worker.getByTestId('task-row').filter({ hasText: marker }).click();
  await worker.getByTestId('verify-note').fill('回访双方，矛盾已化解');
  await worker.getByTestId('verify-pass').click();
  await expect.poll(async () => (await gw<Detail>(`/api/events/${id}`)).state).toBe('evaluating');

  // 5. The operator evaluates; the event is closed with its evaluation on the page.
  await openEvent(centre, id, '待评价');
  await move(centre, 'evaluate', async (d) => {
    await d.getByTestId('evaluate-satisfied').click();
    await d.getByTestId('move-note').fill('处置及时，群众满意');
  });
  await expect.poll(() => centre.getByTestId('event-state').innerText()).toBe('已结案');
  await expect.poll(() => centre.getByTestId('event-timeline').innerText()).toContain('满意');
  expect(await centre.getByTestId('event-actions').locator('[data-testid^=action-]').count()).toBe(0);
  await shot(centre, 'loop-console-closed');

  const closed = await gw<Detail>(`/api/events/${id}`);
  expect(closed.state).toBe('closed');
  expect(closed.evaluation).toBe('satisfied');
  expect(closed.timeline.map((m) => m.action)).toEqual([
    'report',
    'accept',
    'dispatch',
    'sign_for',
    'handle',
    'verify_pass',
    'evaluate',
  ]);
  expect(closed.timeline.find((m) => m.action === 'handle')!.photos).toHaveLength(1);
});
