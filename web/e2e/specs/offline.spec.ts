// The field app offline: a grid worker queues two reports without a network, reloads the app
// (still offline; it opens from the service worker's cache and the queue is still there), goes
// back online, and each report reaches the server exactly once. Also measures the first
// contentful paint of a cold load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { api, context, launch, shot } from '../lib/browser';
import { canvasJpeg, fieldUrl, IN_GRID, SENT_WITHIN, signInField } from '../lib/field';

// Inside grid 371502001001001 (古城社区第1网格) of the demo account grid_worker.


let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});



async function queueReport(page: Page, description: string, photo: Buffer) {
  await page.getByTestId('tab-report').click();
  await page.getByTestId('category-picker').click();
  await page.getByTestId('category-option').filter({ hasText: '邻里纠纷' }).click();
  await expect.poll(() => page.getByTestId('category-picker').innerText()).toContain('邻里纠纷');
  await page.getByTestId('description').fill(description);
  await page.getByTestId('photo-input').setInputFiles({ name: 'scene.jpg', mimeType: 'image/jpeg', buffer: photo });
  await page.getByTestId('photo-thumb').first().waitFor();
  // The GPS position is there (geolocation works offline too).
  await expect.poll(() => page.getByTestId('report-position').innerText()).toContain('115.8617');
  await page.getByTestId('submit').click();
  await page.waitForURL(/\/field\/queue$/);
}

const items = (page: Page) => page.getByTestId('queue-item');

async function states(page: Page, marker: string) {
  return page
    .getByTestId('queue-item')
    .filter({ hasText: marker })
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
}

describe('field app offline', () => {
  it('opens fast (first contentful paint of a cold load)', async () => {
    const ctx = await context(browser, 'phone');
    const page = await ctx.newPage();
    await page.goto(fieldUrl());
    await page.getByTestId('login-submit').waitFor();
    const fcp = await page.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    );
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return Math.round(n.domContentLoadedEventEnd);
    });
    console.log(`field app cold load: first-contentful-paint ${Math.round(fcp)} ms, DOMContentLoaded ${nav} ms`);
    expect(fcp).toBeGreaterThan(0);
    expect(fcp).toBeLessThanOrEqual(1500);
    await ctx.close();
  });

  it('queues reports offline, keeps them across a reload and sends each exactly once', async () => {
    const marker = 'E2E' + Math.random().toString(36).slice(2, 10);
    const descriptions = [`离线上报一 ${marker} 楼道堆物`, `离线上报二 ${marker} 噪音扰民`];
    const ctx: BrowserContext = await context(browser, 'phone');
    await ctx.setGeolocation(IN_GRID);
    const page = await ctx.newPage();

    // Sign in once.
    await signInField(page, 'grid_worker');
    // The map shows my grid and my position; the shell is cached before going offline.
    await page.locator('[data-testid=grid-map] path.leaflet-interactive').first().waitFor();
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    const photo = await canvasJpeg(page, '#8fb3d9', 2400, 1800);

    await ctx.setOffline(true);
    await page.getByTestId('offline-banner').waitFor();
    await queueReport(page, descriptions[0], photo);
    await shot(page, 'field-queue-one-offline');
    // The form, filled, before the second submit.
    await page.getByTestId('tab-report').click();
    await page.getByTestId('category-picker').click();
    await page.getByTestId('category-option').filter({ hasText: '邻里纠纷' }).click();
    await page.getByTestId('description').fill(descriptions[1]);
    await page.getByTestId('photo-input').setInputFiles({ name: 'scene.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.getByTestId('photo-thumb').first().waitFor();
    await expect.poll(() => page.getByTestId('report-position').innerText()).toContain('115.8617');
    await page.locator('[data-testid=category-popup]').waitFor({ state: 'hidden' });
    await shot(page, 'field-report-form');
    await page.getByTestId('submit').click();
    await page.waitForURL(/\/field\/queue$/);

    await expect.poll(() => states(page, marker)).toEqual(['pending', 'pending']);
    await expect.poll(() => items(page).filter({ hasText: marker }).getByTestId('queue-item-state').allInnerTexts()).toEqual([
      '待发送',
      '待发送',
    ]);
    await shot(page, 'field-queue-offline');

    // Reload while still offline: the app opens from the service worker and the queue survived.
    await page.reload();
    await page.getByTestId('queue-count').waitFor();
    await expect.poll(() => states(page, marker)).toEqual(['pending', 'pending']);
    const photos = await items(page).filter({ hasText: marker }).allInnerTexts();
    expect(photos.every((t) => t.includes('1 张照片'))).toBe(true);

    // Back online: the sender goes by itself and the queue empties.
    await ctx.setOffline(false);
    await expect.poll(() => items(page).filter({ hasText: marker }).count(), SENT_WITHIN).toBe(0);
    await expect.poll(() => page.getByTestId('sent-item').filter({ hasText: marker }).count()).toBe(2);
    await shot(page, 'field-queue-sent');

    // Exactly one event per description on the server, in my grid, with its photo.
    const gw = await api('grid_worker');
    const found = await gw<{ total: number; items: { id: string; description: string; grid_code: string }[] }>(
      `/api/events?q=${marker}&per_page=50`,
    );
    expect(found.total).toBe(2);
    for (const d of descriptions) {
      const ev = found.items.filter((e) => e.description === d);
      expect(ev).toHaveLength(1);
      expect(ev[0].grid_code).toBe('371502001001001');
      const detail = await gw<{ timeline: { photos: unknown[] }[] }>(`/api/events/${ev[0].id}`);
      expect(detail.timeline[0].photos).toHaveLength(1);
    }

    // A retry after the reconnect (重试) sends nothing twice.
    await page.getByTestId('retry-all').click();
    await page.waitForTimeout(500);
    expect((await gw<{ total: number }>(`/api/events?q=${marker}`)).total).toBe(2);

    // My tasks: my reports list shows the new events with their state.
    await page.getByTestId('tab-tasks').click();
    await page.getByTestId('tab-mine').click();
    await expect.poll(() => page.getByTestId('task-row').first().innerText()).toContain(marker);
    await shot(page, 'field-tasks');
    await ctx.close();
  });

  it('keeps a refused report as failed with the server message until it is edited', async () => {
    const marker = 'E2E' + Math.random().toString(36).slice(2, 10);
    const ctx = await context(browser, 'phone');
    // Far from every grid: the server refuses a report placed by this position.
    await ctx.setGeolocation({ longitude: 117.9, latitude: 37.9 });
    const page = await ctx.newPage();
    await signInField(page, 'grid_worker');
    const photo = await canvasJpeg(page, '#8fb3d9', 2400, 1800);
    await page.getByTestId('tab-report').click();
    await page.getByTestId('category-picker').click();
    await page.getByTestId('category-option').filter({ hasText: '邻里纠纷' }).click();
    await page.getByTestId('description').fill(`位置有误 ${marker}`);
    await page.getByTestId('photo-input').setInputFiles({ name: 'scene.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.getByTestId('photo-thumb').first().waitFor();
    await expect.poll(() => page.getByTestId('report-position').innerText()).toContain('117.9');
    await page.getByTestId('submit').click();
    await page.waitForURL(/\/field\/queue$/);

    const item = page.getByTestId('queue-item').filter({ hasText: marker });
    await expect.poll(() => item.getAttribute('data-state')).toBe('failed');
    expect(await item.getByTestId('queue-item-state').innerText()).toBe('发送失败');
    expect(await item.getByTestId('queue-item-error').innerText()).toContain('网格');
    expect(await item.getAttribute('data-attempts')).toBe('1');
    // A retry sends it again and it is refused again: still failed, still one item.
    await item.getByTestId('queue-item-retry').click();
    await expect.poll(() => item.getAttribute('data-attempts')).toBe('2');
    await expect.poll(() => item.getAttribute('data-state')).toBe('failed');
    await item.getByTestId('queue-item-error').waitFor();
    await shot(page, 'field-queue-failed');

    // Edit it: report in my own grid instead; the same key is sent and it goes through.
    await item.getByTestId('queue-item-edit').click();
    await page.waitForURL(/\/field\/report\/\d+$/);
    await expect.poll(() => page.getByTestId('description').inputValue()).toBe(`位置有误 ${marker}`);
    await expect(page.getByTestId('photo-thumb').count()).resolves.toBe(1);
    await page.getByTestId('place-mode').getByText('本人网格').click();
    await page.getByTestId('submit').click();
    await page.waitForURL(/\/field\/queue$/);
    await expect.poll(() => page.getByTestId('queue-item').filter({ hasText: marker }).count()).toBe(0);
    await page.getByTestId('sent-item').filter({ hasText: marker }).waitFor();

    const gw = await api('grid_worker');
    const found = await gw<{ total: number; items: { grid_code: string }[] }>(`/api/events?q=${marker}`);
    expect(found.total).toBe(1);
    expect(found.items[0].grid_code).toBe('371502001001001');
    await ctx.close();
  });
});
