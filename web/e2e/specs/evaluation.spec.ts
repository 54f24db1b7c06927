// Evaluation in the console: the monthly ranking of grid workers matches the API row for row
// (rank, score, grade, stars), and a row opens its explanation (indicator values, targets,
// weights, points and the raw counts). A new scheme version is saved (a weight of 0 refused
// first) and the old version stays as it was. The leaders' dashboard renders the API's figures
// (today's counts, the 30-day trend, the latest ranking, the overdue list) and refreshes itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { api, launch, shot } from '../lib/browser';
import { consoleSignIn } from '../lib/console';

type Row = { id: string; subject_code: string; subject_name: string; score: number; grade: string; stars: number; rank: number; of: number };
type Board = { period_kind: string; period_start: string; period_end: string; subject_kind: string; rows: Row[] };
type Detail = { row: Row; items: { key: string; label: string; weight: number; points: number | null; raw: { label: string; value: number }[] }[] };
type Dash = {
  today: { reported: number; closed: number; open: number; overdue: number; online_workers: number; workers: number };
  trend: { day: string; reported: number; closed: number }[];
  ranking: { rows: Row[] } | null;
  overdue: { id: string; case_no: string }[];
};

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('evaluation', () => {
  it('shows the monthly ranking as the API has it, and explains a score', async () => {
    const cc = await api('county_centre');
    const board = await cc<Board>('/api/evaluation/scores?period_kind=month&subject_kind=worker&area=371502');
    expect(board.rows.length).toBeGreaterThan(0);

    const page = await consoleSignIn(browser, 'county_centre');
    await page.getByTestId('nav-supervision').click();
    await page.getByTestId('nav-scores').click();
    await page.getByTestId('scores-table').waitFor();
    // The county's townships first (the level below); then its grid workers.
    await expect.poll(() => page.getByTestId('scores-subject-township').locator('input').isChecked()).toBe(true);
    await page.getByTestId('scores-subject-worker').click();
    await expect.poll(() => page.locator('.score-row').count()).toBe(board.rows.length);
    expect(await page.getByTestId('scores-period-label').innerText()).toMatch(/^\d{4}年\d{1,2}月$/);
    for (const r of board.rows.slice(0, 20)) {
      const tr = page.locator('.score-row', { has: page.getByTestId('score-row-' + r.subject_code) });
      expect(await tr.getByTestId('score-rank-' + r.subject_code).innerText()).toBe(String(r.rank));
      expect(await tr.locator('[data-col=score]').innerText()).toBe(r.score.toFixed(2));
      expect(await tr.locator('[data-col=grade]').innerText()).toBe(r.grade);
      expect(Number(await tr.locator('[data-col=stars]').getAttribute('data-value'))).toBe(r.stars);
    }
    await shot(page, 'console-scores');

    // The first row explained.
    const top = board.rows[0];
    const detail = await cc<Detail>(`/api/evaluation/scores/${top.id}`);
    await page.getByTestId('score-row-' + top.subject_code).click();
    const drawer = page.getByTestId('score-detail');
    await expect.poll(() => drawer.getByTestId('score-detail-score').innerText()).toBe(top.score.toFixed(2));
    for (const it of detail.items) {
      const tr = drawer.locator('tbody tr', { has: page.getByTestId('score-item-' + it.key) });
      expect(await tr.getByTestId('score-item-' + it.key).innerText()).toBe(it.label);
      expect(await tr.locator('[data-col=weight]').innerText()).toBe(Number.isInteger(it.weight) ? String(it.weight) : it.weight.toFixed(2));
      for (const raw of it.raw) expect(await tr.innerText()).toContain(raw.label);
    }
    await shot(page, 'console-score-detail');
    await page.context().close();
  });

  it('saves a new scheme version (weights must be above 0), leaving the old one as it was', async () => {
    type Scheme = { id: string; subject_kind: string; version: number; items: { key: string; weight: number; target: number }[] };
    const cc = await api('county_centre');
    const before = (await cc<Scheme[]>('/api/evaluation/schemes')).filter((s) => s.subject_kind === 'worker');
    const latest = before.reduce((a, s) => (s.version > a.version ? s : a));

    const page = await consoleSignIn(browser, 'county_centre');
    await page.getByTestId('nav-supervision').click();
    await page.getByTestId('nav-schemes').click();
    await page.getByTestId('schemes-subject-worker').click();
    await page.getByTestId('scheme-version-' + latest.version).waitFor();
    await page.getByTestId('scheme-new').click();
    const dialog = page.getByTestId('scheme-dialog');
    await dialog.getByTestId('scheme-item-weight-0').waitFor();
    const sum = () => dialog.getByTestId('scheme-weight-sum').getAttribute('data-value').then(Number);
    const total = latest.items.reduce((a, i) => a + i.weight, 0);
    expect(await sum()).toBe(total);

    // A weight of 0 is refused before anything is sent; the sum follows the weights.
    const weight = dialog.getByTestId('scheme-item-weight-0').locator('input');
    await weight.fill('0');
    await weight.blur();
    await expect.poll(sum).toBe(total - latest.items[0].weight);
    await dialog.getByTestId('dialog-confirm').click();
    await expect.poll(() => dialog.getByTestId('scheme-item-errors').innerText()).toContain('权重必须大于 0');
    expect((await cc<Scheme[]>('/api/evaluation/schemes')).filter((s) => s.subject_kind === 'worker').length).toBe(before.length);

    await weight.fill('30');
    await weight.blur();
    await expect.poll(sum).toBe(total - latest.items[0].weight + 30);
    await shot(page, 'console-scheme-new');
    await dialog.getByTestId('dialog-confirm').click();
    await page.locator('.el-message--success', { hasText: `已保存第 ${latest.version + 1} 版` }).waitFor();
    await page.getByTestId('scheme-version-' + (latest.version + 1)).waitFor();

    const after = (await cc<Scheme[]>('/api/evaluation/schemes')).filter((s) => s.subject_kind === 'worker');
    const added = after.find((s) => s.version === latest.version + 1)!;
    expect(added.items.find((i) => i.key === latest.items[0].key)?.weight).toBe(30);
    expect(after.find((s) => s.id === latest.id)).toEqual(latest);
    await page.context().close();
  });

  it('the dashboard renders the API’s figures and refreshes itself', async () => {
    const leader = await api('leader');
    const page = await consoleSignIn(browser, 'leader');
    await page.getByTestId('nav-dashboard').click();
    await page.waitForURL(/\/dashboard$/);
    await expect.poll(() => page.getByTestId('dash-count-reported').getAttribute('data-value')).not.toBe('');
    const d = await leader<Dash>('/api/dashboard');
    for (const k of ['reported', 'closed', 'open', 'overdue'] as const)
      expect(Number(await page.getByTestId('dash-count-' + k).getAttribute('data-value'))).toBe(d.today[k]);
    expect(await page.getByTestId('dash-count-online').innerText()).toContain(`/${d.today.workers}`);
    // The trend has the last 30 days; the ranking and the overdue list their rows.
    expect(d.trend.length).toBe(30);
    const labels = await page.getByTestId('dash-trend').locator('svg text').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    // The axis shows every few days, from the first.
    expect(labels).toContain(d.trend[0].day.slice(5));
    expect(await page.locator('[data-testid^=dash-rank-]').count()).toBe(Math.min(10, d.ranking?.rows.length ?? 0));
    expect(await page.getByTestId('dash-overdue-row').count()).toBe(d.overdue.length);
    await shot(page, 'console-dashboard');

    // It asks again by itself (every 30 s).
    const at = await page.getByTestId('dash-updated').getAttribute('data-at');
    await page.waitForResponse((r) => r.url().includes('/api/dashboard') && r.ok(), { timeout: 40_000 });
    await expect.poll(() => page.getByTestId('dash-updated').getAttribute('data-at')).not.toBe(at);
    await page.context().close();
  });
});
