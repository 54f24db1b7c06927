// Field work end to end: a grid worker checks in on the phone, starts a patrol, walks (the
// browser's position is moved) so track points are sampled and sent, finishes the patrol with a
// note and logs a visit to a person of the grid. A second patrol is walked and finished without
// a network (and the app reloaded meanwhile): its points reach the server afterwards with the
// times they were taken. The township centre operator then opens
// 网格员轨迹 and sees that worker's track on the map (a polyline) with the patrol listed. A
// leader opens 通报, issues the month's bulletin and downloads it as a PDF.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { api, context, launch, shot } from '../lib/browser';
import { consoleSignIn } from '../lib/console';
import { IN_GRID, SENT_WITHIN, fieldUrl, signInField } from '../lib/field';

type Patrol = { id: string; user_id: string; ended_at: string | null; points: number; meters: number; note: string | null };
type Track = { user_id: string; points: { at: string; lon: number; lat: number; patrol_id: string | null }[]; patrols: Patrol[] };
type Visit = { id: string; subject_kind: string; subject_id: string; subject_label: string; note: string };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** The day in China, as the server counts days. */
const chinaDay = () => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai' }).format(new Date());

/** Walks the phone `n` steps of about 110 m north-east, waiting for a sample after each. */
async function walk(ctx: BrowserContext, page: Page, n: number) {
  const points = () => page.getByTestId('patrol-points').getAttribute('data-value').then(Number);
  for (let i = 1; i <= n; i++) {
    const before = await points();
    await ctx.setGeolocation({ longitude: IN_GRID.longitude + i * 0.0008, latitude: IN_GRID.latitude + i * 0.0008 });
    // A point at most every 15 s (and one every 20 s while standing still).
    await expect.poll(points, { timeout: 45_000, interval: 1_000 }).toBeGreaterThan(before);
  }
}

describe('field work', () => {
  let workerId = '';
  let patrolId = '';
  const marker = 'E2E' + Math.random().toString(36).slice(2, 8);

  it('a grid worker checks in, patrols with a track, finishes and logs a visit', async () => {
    const gw = await api('grid_worker');
    workerId = (await gw<{ id: string }>('/api/auth/me')).id;
    // A clean start: no shift or patrol left open by an earlier run.
    await gw('/api/field/check-out', { method: 'POST' }).catch(() => undefined);

    const ctx = await context(browser, 'phone');
    await ctx.setGeolocation(IN_GRID);
    const page = await ctx.newPage();
    await signInField(page, 'grid_worker');

    // 签到 from the home page.
    await expect.poll(() => page.getByTestId('home-duty').getAttribute('data-state')).toBe('out');
    await page.getByTestId('home-check-in').click();
    await expect.poll(() => page.getByTestId('home-duty').getAttribute('data-state')).toBe('in');
    const status = await gw<{ shift: { id: string; ended_at: string | null } | null }>('/api/field/status');
    expect(status.shift?.ended_at ?? null).toBeNull();

    // 开始巡查: the first point is taken at once, more as the phone moves.
    await page.getByTestId('home-patrol').click();
    await page.waitForURL(/\/field\/work$/);
    await page.getByTestId('patrol-start').click();
    await expect.poll(() => page.getByTestId('patrol-card').getAttribute('data-state')).toBe('on');
    await expect.poll(() => page.getByTestId('patrol-points').getAttribute('data-value').then(Number), { timeout: 20_000 }).toBeGreaterThan(0);
    const open = await gw<{ patrol: Patrol | null }>('/api/field/status');
    expect(open.patrol).not.toBeNull();
    patrolId = open.patrol!.id;
    await walk(ctx, page, 2);
    expect(await page.getByTestId('patrol-elapsed').innerText()).toMatch(/^\d+:\d\d$/);
    expect(Number(await page.getByTestId('patrol-distance').innerText())).toBeGreaterThan(0.1);
    await shot(page, 'field-patrol');

    // 结束巡查 with a note: the points are sent first, the server measures the patrol.
    await page.getByTestId('patrol-finish').click();
    await page.getByTestId('patrol-note').locator('textarea').fill(`沿运河路巡查 ${marker}，无异常`);
    await page.getByTestId('patrol-finish-dialog').getByRole('button', { name: '结束巡查' }).click();
    await expect.poll(() => page.getByTestId('patrol-card').getAttribute('data-state')).toBe('off');
    await page.getByTestId('patrol-last').waitFor();
    const mine = await gw<Track>(`/api/field/track?user_id=${workerId}&day=${chinaDay()}`);
    const patrols = await gw<Patrol[]>(`/api/field/patrols?user_id=${workerId}`);
    const done = patrols.find((p) => p.id === patrolId);
    expect(done?.ended_at).toBeTruthy();
    expect(done?.note).toContain(marker);
    expect(done!.points).toBeGreaterThanOrEqual(3);
    expect(done!.meters).toBeGreaterThan(150);
    // Every point the phone took reached the server, with its own time.
    expect(mine.points.filter((p) => p.patrol_id === patrolId).length).toBe(done!.points);

    // 走访登记: a person of the grid, found by name.
    const people = await gw<{ items: { id: string; name: string }[] }>('/api/people?per_page=5');
    const person = people.items.find((p) => p.name.length >= 2)!;
    await page.goto(page.url().replace(/\/work$/, '/visit'));
    await page.getByTestId('visit-subject').click();
    await page.getByTestId('visit-picker').getByTestId('visit-search').locator('input').fill(person.name);
    await page.getByTestId('visit-search-go').click();
    await page.locator(`[data-testid=visit-hit][data-id="${person.id}"]`).click();
    await expect.poll(() => page.getByTestId('visit-subject').innerText()).toContain(person.name);
    // No note yet: the form says what is missing and sends nothing.
    await page.getByTestId('visit-submit').click();
    await page.getByText('请填写走访情况').first().waitFor();
    await page.getByTestId('visit-note').fill(`入户走访 ${marker}：了解家庭情况，无诉求`);
    await shot(page, 'field-visit');
    await page.getByTestId('visit-submit').click();
    await page.waitForURL(/\/field\/queue$/);
    await page.locator('[data-testid=sent-item][data-kind=visit]', { hasText: person.name }).first().waitFor(SENT_WITHIN);
    const visits = await gw<Visit[]>(`/api/field/visits?user_id=${workerId}`);
    const visit = visits.find((v) => v.note.includes(marker));
    expect(visit).toMatchObject({ subject_kind: 'person', subject_id: person.id });

    // 我的本周 counts the patrol and the visit.
    await page.goto(page.url().replace(/\/queue$/, '/week'));
    await expect.poll(() => page.getByTestId('week-patrols').getAttribute('data-value').then(Number)).toBeGreaterThanOrEqual(1);
    expect(Number(await page.getByTestId('week-visits').getAttribute('data-value'))).toBeGreaterThanOrEqual(1);
    await shot(page, 'field-week');
    await ctx.close();
  });

  it('keeps the points of a patrol walked offline and sends them later with their own times', async () => {
    const gw = await api('grid_worker');
    const note = `离线巡查 ${marker}`;
    const ctx = await context(browser, 'phone');
    await ctx.setGeolocation(IN_GRID);
    const page = await ctx.newPage();
    await signInField(page, 'grid_worker');
    // The app shell is cached before the network goes.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await page.goto(fieldUrl() + 'work');
    await page.getByTestId('patrol-start').click();
    await expect.poll(() => page.getByTestId('patrol-points').getAttribute('data-value').then(Number), { timeout: 20_000 }).toBeGreaterThan(0);

    const offlineFrom = Date.now();
    await ctx.setOffline(true);
    await walk(ctx, page, 1);
    // Reloaded offline: the patrol goes on, the points taken so far are still there.
    await page.reload();
    await expect.poll(() => page.getByTestId('patrol-card').getAttribute('data-state')).toBe('on');
    await walk(ctx, page, 1);
    expect(Number(await page.getByTestId('patrol-pending').getAttribute('data-value'))).toBeGreaterThanOrEqual(2);
    await page.getByTestId('patrol-finish').click();
    await page.getByTestId('patrol-note').locator('textarea').fill(note);
    await page.getByTestId('patrol-finish-dialog').getByRole('button', { name: '结束巡查' }).click();
    await page.getByTestId('patrol-pending-finish').waitFor();
    await shot(page, 'field-patrol-offline');

    const onlineAt = Date.now();
    await ctx.setOffline(false);
    await page.getByTestId('patrol-last').waitFor({ timeout: 75_000 });
    const patrol = (await gw<Patrol[]>(`/api/field/patrols?user_id=${workerId}`)).find((p) => p.note === note);
    expect(patrol?.ended_at).toBeTruthy();
    const track = await gw<Track>(`/api/field/track?user_id=${workerId}&day=${chinaDay()}`);
    const points = track.points.filter((p) => p.patrol_id === patrol!.id);
    expect(points.length).toBe(patrol!.points);
    expect(points.length).toBeGreaterThanOrEqual(3);
    // Taken while offline, stored with those times.
    expect(points.filter((p) => Date.parse(p.at) > offlineFrom && Date.parse(p.at) < onlineAt).length).toBeGreaterThanOrEqual(2);
    await ctx.close();
  });

  it('the township centre sees the worker’s track and patrol', async () => {
    expect(patrolId).not.toBe('');
    const page = await consoleSignIn(browser, 'town_centre');
    await page.getByTestId('nav-supervision').click();
    await page.waitForURL(/\/supervision\/tracks/);
    await page.getByTestId('tracks-worker-' + workerId).click();
    await expect.poll(() => page.getByTestId('track-info').getAttribute('data-points').then(Number)).toBeGreaterThanOrEqual(3);
    await expect.poll(() => page.locator('[data-testid=track-map] path.cg-track').count()).toBeGreaterThan(0);
    const row = page.locator(`[data-testid=track-patrol-row][data-id="${patrolId}"]`);
    await row.waitFor();
    await row.click();
    expect(await page.getByTestId('track-patrols').innerText()).toContain(marker);
    await page.waitForTimeout(500);
    await shot(page, 'console-tracks');

    // The page showed what the API answers the supervisor.
    const cc = await api('town_centre');
    const track = await cc<Track>(`/api/field/track?user_id=${workerId}&day=${chinaDay()}`);
    expect(track.patrols.some((p) => p.id === patrolId)).toBe(true);
    expect(Number(await page.getByTestId('track-info').getAttribute('data-points'))).toBe(track.points.length);
    await page.context().close();
  });

  it('a leader issues the month’s bulletin and downloads it as a PDF', async () => {
    const page = await consoleSignIn(browser, 'leader');
    await page.getByTestId('nav-supervision').click();
    await page.getByTestId('nav-bulletins').click();
    await page.getByTestId('bulletins-table').waitFor();
    expect(await page.getByTestId('bulletin-period-label').innerText()).toMatch(/^\d{4}年\d{1,2}月$/);
    const before = await page.locator('[data-testid^=bulletin-pdf-]').count();
    await page.getByTestId('bulletin-generate').click();
    await expect.poll(() => page.locator('[data-testid^=bulletin-pdf-]').count(), { timeout: 60_000 }).toBeGreaterThan(before);
    await page.locator('.el-message--success').first().waitFor();
    await shot(page, 'console-bulletins');

    const pdf = page.locator('[data-testid^=bulletin-pdf-]').first();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), pdf.click()]);
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
    const bytes = readFileSync((await download.path())!);
    expect(bytes.subarray(0, 4).toString()).toBe('%PDF');
    expect(bytes.length).toBeGreaterThan(5_000);

    const xlsx = page.locator('[data-testid^=bulletin-xlsx-]').first();
    const [sheet] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), xlsx.click()]);
    expect(readFileSync((await sheet.path())!).subarray(0, 2).toString()).toBe('PK');
    await page.context().close();
  });
});
