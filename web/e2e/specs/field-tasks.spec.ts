// The field app's tasks: a grid worker handles their own report themselves (自行处置, with a
// photo) from 我的上报; the grid chief then verifies it from 待回访 (核查不通过 needs a reason;
// 核查通过 moves it on to evaluation). The worker who handled it is not offered verification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { api, launch, shot } from '../lib/browser';
import { canvasJpeg, fieldSignIn } from '../lib/field';

const GRID = '371502001001001';

type Detail = { state: string; version: number; timeline: { action: string; note?: string | null; photos: unknown[] }[] };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});



describe('field app tasks', () => {
  it('self-handles a report with a photo, and the grid chief verifies it', async () => {
    const marker = 'E2E' + Math.random().toString(36).slice(2, 10);
    const gw = await api('grid_worker');
    const { event } = await gw<{ event: { id: string } }>('/api/events', {
      method: 'POST',
      body: JSON.stringify({ category: '0102', description: `自行处置 ${marker}`, grid_code: GRID }),
    });
    const detail = () => gw<Detail>(`/api/events/${event.id}`);

    // The worker finds it under 我的上报 and handles it.
    const worker = await fieldSignIn(browser, 'grid_worker');
    await worker.getByTestId('tab-tasks').click();
    await worker.getByTestId('tab-mine').click();
    await worker.getByTestId('task-row').filter({ hasText: marker }).click();
    await worker.getByTestId('self-handle-submit').waitFor();
    expect(await worker.getByTestId('verify-pass').count()).toBe(0);
    // Without a note and a photo nothing is sent.
    await worker.getByTestId('self-handle-submit').click();
    await worker.getByText('请填写处置情况并附处置后照片').waitFor();
    expect((await detail()).state).toBe('reported');

    await worker.getByTestId('self-handle-note').fill('已当场劝解，双方达成一致');
    await worker.getByTestId('self-handle-photo').setInputFiles({ name: 'after.jpg', mimeType: 'image/jpeg', buffer: await canvasJpeg(worker, '#2e9e44', 800, 600) });
    await worker.getByTestId('photo-thumb').first().waitFor();
    await shot(worker, 'field-event-self-handle');
    await worker.getByTestId('self-handle-submit').click();
    await expect.poll(async () => (await detail()).state).toBe('verifying');
    // Handled by this worker: no verification offered to them (采办分离).
    await worker.getByTestId('self-handle-submit').waitFor({ state: 'detached' });
    expect(await worker.getByTestId('verify-pass').count()).toBe(0);
    const handled = (await detail()).timeline.find((m) => m.action === 'self_handle');
    expect(handled?.photos).toHaveLength(1);
    expect(handled?.note).toBe('已当场劝解，双方达成一致');

    // The grid chief verifies it from 待回访.
    const chief = await fieldSignIn(browser, 'grid_chief');
    await chief.getByTestId('tab-tasks').click();
    await chief.getByTestId('task-row').filter({ hasText: marker }).click();
    await chief.getByTestId('verify-pass').waitFor();
    await chief.getByTestId('verify-fail').click();
    await chief.getByText('请填写核查不通过的原因').waitFor();
    expect((await detail()).state).toBe('verifying');
    await chief.getByTestId('verify-note').fill('回访当事人，问题已解决');
    await shot(chief, 'field-verify');
    await chief.getByTestId('verify-pass').click();
    await expect.poll(async () => (await detail()).state).toBe('evaluating');
    await chief.getByTestId('verify-pass').waitFor({ state: 'detached' });
    const verified = (await detail()).timeline.find((m) => m.action === 'verify_pass');
    expect(verified?.note).toBe('回访当事人，问题已解决');

    await worker.context().close();
    await chief.context().close();
  });
});
