// 网上巡查 end to end: a grid worker registers a house; the township centre draws samples of what
// grid workers entered, returns the house (a reason is required) and the worker finds it under
// 我的任务 › 巡查退回 on the phone, answers 已整改 with a note, and the centre sees the reply and
// marks the sample 合格.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { api, launch, shot } from '../lib/browser';
import { consoleSignIn } from '../lib/console';
import { fieldSignIn } from '../lib/field';

type Sample = { id: string; record_id: string; record_label: string; worker_id: string; status: string; note: string | null; fixed_note: string | null };
type Page = { total: number; items: Sample[] };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('online patrol', () => {
  it('draws a sample, returns it, the worker fixes it, the centre passes it', async () => {
    const gw = await api('grid_worker');
    const cc = await api('town_centre');
    const workerId = (await gw<{ id: string }>('/api/auth/me')).id;
    const no = 100 + Math.floor(Math.random() * 800);
    const house = await gw<{ id: string; house_no: string }>('/api/houses', {
      method: 'POST',
      body: JSON.stringify({ address: `东昌府区古楼街道古城社区运河路${no}号`, is_rental: false }),
    });

    // The centre draws: rules plus a random share large enough to take every record entered.
    const page = await consoleSignIn(browser, 'town_centre');
    await page.getByTestId('nav-supervision').click();
    await page.getByTestId('nav-inspections').click();
    await page.getByTestId('inspections-table').waitFor();
    await page.getByTestId('inspections-draw').click();
    const draw = page.getByTestId('draw-dialog');
    await draw.getByTestId('draw-random').locator('input').fill('100');
    await draw.getByTestId('draw-random').locator('input').blur();
    await draw.getByTestId('dialog-confirm').click();
    await page.locator('.el-message--success', { hasText: '已抽取' }).waitFor();
    const pending = await cc<Page>('/api/inspections?status=pending&per_page=100');
    const sample = pending.items.find((i) => i.record_id === house.id);
    expect(sample).toMatchObject({ worker_id: workerId, status: 'pending' });
    const row = page.getByTestId('inspection-row-' + sample!.id);
    await row.waitFor();
    await shot(page, 'console-inspections');

    // 退回 needs a reason.
    await page.getByTestId('inspection-return-' + sample!.id).click();
    const dialog = page.getByTestId('return-dialog');
    await dialog.getByTestId('dialog-confirm').click();
    await expect.poll(() => dialog.getByTestId('return-reason-error').innerText()).toBe('请填写退回原因');
    await dialog.getByTestId('return-reason').fill('房屋用途未填写，请补充');
    await dialog.getByTestId('dialog-confirm').click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('returned');

    // The worker sees it among the tasks and says it is fixed (a note is required).
    const phone = await fieldSignIn(browser, 'grid_worker');
    await phone.getByTestId('tab-tasks').click();
    await phone.getByTestId('tab-inspections').click();
    const task = phone.locator(`[data-testid=returned-row][data-id="${sample!.id}"]`);
    await task.waitFor();
    expect(await task.getByTestId('returned-note').innerText()).toContain('房屋用途未填写');
    await task.getByTestId('returned-fix').click();
    const fix = phone.getByTestId('returned-fix-dialog');
    await fix.getByRole('button', { name: '已整改' }).click();
    await fix.getByText('请填写整改情况').waitFor();
    await fix.getByTestId('returned-fix-note').locator('textarea').fill('已补充房屋用途为住宅');
    await shot(phone, 'field-inspection-fix');
    await fix.getByRole('button', { name: '已整改' }).click();
    await task.waitFor({ state: 'detached' });
    await phone.context().close();

    // Back at the centre: the reply is there; 合格 closes it.
    await page.getByTestId('inspections-status-fixed').click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('fixed');
    expect(await page.locator('tr', { has: row }).locator('[data-col=fixed]').innerText()).toContain('已补充房屋用途为住宅');
    await page.getByTestId('inspection-fine-' + sample!.id).click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('fine');
    const done = (await cc<Page>('/api/inspections?status=fine&per_page=100')).items.find((i) => i.id === sample!.id);
    expect(done).toMatchObject({ status: 'fine', fixed_note: '已补充房屋用途为住宅' });
    await page.context().close();
  });
});
