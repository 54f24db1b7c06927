// Base data (实有人口, 五码关联): the township centre operator imports a CSV of people it wrote
// itself (valid GB 11643 numbers, 古楼街道 addresses, two people sharing a household), reads the
// report, finds one of them by a two-character name, opens the person, sees the household and
// the address (五码关联), and shows the full ID number for a stated reason. A strict import of a
// file with one bad row shows that row's error and writes nothing. In the field app a grid
// worker collects a person offline; the queue sends it once the phone is back online.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, context, launch, shot } from '../lib/browser';
import { consoleSignIn } from '../lib/console';
import { IN_GRID, SENT_WITHIN, signInField } from '../lib/field';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const rand = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');

/** A valid citizen ID number (GB 11643) of 东昌府区, born on `birth` (YYYYMMDD). */
function idNo(birth: string, male: boolean): string {
  const seq = rand(2) + String((Math.floor(Math.random() * 5) * 2 + (male ? 1 : 0)) % 10);
  const first17 = '371502' + birth + seq;
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * WEIGHTS[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/** A wrong check character for `id`. */
const spoil = (id: string) => id.slice(0, 17) + (id[17] === '0' ? '1' : '0');

/** A two-character name unlikely to be in the demo data. */
function twoCharName(): string {
  const family = '禤亓钭嵇郗厍蒯';
  const given = '翊珩琰玥骞湉瑀璟';
  return family[Math.floor(Math.random() * family.length)] + given[Math.floor(Math.random() * given.length)];
}

const HEADER = '人员类别,姓名,证件号码,民族,联系电话,现住地址,户号,与户主关系';
const csv = (rows: string[][]) => '\ufeff' + [HEADER, ...rows.map((r) => r.join(','))].join('\r\n') + '\r\n';

type Found = { items: { id: string; name: string; id_no?: string | null }[] };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

async function upload(page: Page, name: string, body: string, mode: 'strict' | 'valid_only') {
  await page.getByTestId(mode === 'strict' ? 'mode-strict' : 'mode-valid-only').click();
  await page.getByTestId('import-file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(body, 'utf8') });
  await expect.poll(() => page.getByTestId('import-file-name').innerText()).toBe(name);
  await page.getByTestId('import-submit').click();
  await page.getByTestId('import-report').waitFor();
}

describe('people', () => {
  it('imports a CSV, finds a person by a two-character name, shows 五码关联 and unmasks with a reason', async () => {
    const centre = await api('town_centre');
    const head = { name: twoCharName(), id: idNo('19780512', true) };
    const spouse = { name: head.name + '芳', id: idNo('19800923', false) };
    const tenant = { name: '测试租户' + rand(3), id: idNo('19951107', true) };
    const household = 'E' + rand(7);
    const street = `光明路${Number(rand(2)) + 10}号`;
    const address = `东昌府区古楼街道古城社区${street}3号楼2单元${Number(rand(3)) + 100}室`;
    const good = csv([
      ['户籍人口', head.name, head.id, '汉族', '138' + rand(8), address, household, '户主'],
      ['户籍人口', spouse.name, spouse.id, '汉族', '', address, household, '配偶'],
      ['流动人口', tenant.name, tenant.id, '回族', '139' + rand(8), `东昌府区古楼街道古城社区${street}`, '', ''],
    ]);

    const page = await consoleSignIn(browser, 'town_centre');
    await page.getByTestId('nav-people').click();
    await page.getByTestId('people-table').waitFor();
    await page.getByTestId('people-import').click();
    await upload(page, 'people-good.csv', good, 'strict');
    await expect.poll(() => page.getByTestId('import-count-created').innerText()).toContain('3');
    expect(await page.getByTestId('import-count-failed').innerText()).toContain('0');
    expect(await page.getByTestId('import-written').innerText()).toBe('已写入');
    await shot(page, 'people-import-report');

    // Strict import of a file with one bad row: the row's error, and nothing written.
    const fresh = { name: '严格' + rand(4), id: idNo('19890303', false) };
    const bad = { name: '错号' + rand(4), id: spoil(idNo('19700101', true)) };
    const rejected = csv([
      ['户籍人口', fresh.name, fresh.id, '汉族', '', address, '', ''],
      ['户籍人口', bad.name, bad.id, '汉族', '', address, '', ''],
    ]);
    await upload(page, 'people-bad.csv', rejected, 'strict');
    expect(await page.getByTestId('import-written').innerText()).toBe('未写入任何数据');
    const errors = page.getByTestId('import-errors');
    await expect.poll(() => errors.innerText()).toContain('校验位错误');
    const errorRow = errors.locator('tbody tr').first();
    expect(await errorRow.locator('td').nth(0).innerText()).toBe('3');
    expect(await errorRow.locator('td').nth(1).innerText()).toBe('证件号码');
    await shot(page, 'people-import-rejected');
    expect((await centre<Found>(`/api/people?q=${fresh.id}`)).items).toHaveLength(0);

    // Search by a two-character name and open the person.
    const [found] = (await centre<Found>(`/api/people?q=${head.id}`)).items;
    expect(found?.name).toBe(head.name);
    await page.getByTestId('nav-people').click();
    await page.getByTestId('people-q').fill(head.name);
    await page.getByTestId('people-q').press('Enter');
    const row = page.getByTestId(`person-row-${found.id}`);
    await row.waitFor();
    // Masked in the list.
    expect(await page.locator('.el-table__row', { has: row }).innerText()).toContain(head.id.slice(0, 6) + '********' + head.id.slice(14));
    await shot(page, 'people-search');
    await row.click();
    await page.getByTestId('person-basic').waitFor();
    expect(await page.getByTestId('person-name').innerText()).toBe(head.name);
    expect(await page.getByTestId('person-id-no').innerText()).not.toContain(head.id);

    // 五码关联: the household with both members, the address.
    await page.locator('#tab-links').click();
    const links = page.getByTestId('person-links');
    await links.waitFor();
    await expect.poll(() => page.getByTestId('link-household').innerText()).toContain(household);
    expect(await page.getByTestId('household-members').innerText()).toContain(spouse.name);
    expect(await page.getByTestId('link-address').innerText()).toContain(street);
    await shot(page, 'people-links');

    // 查看完整信息: a reason, then the full number.
    await page.getByTestId('person-unmask').click();
    const dialog = page.getByTestId('unmask-dialog');
    await dialog.getByTestId('unmask-confirm').click();
    await expect.poll(() => dialog.getByTestId('unmask-error').innerText()).toContain('4');
    await dialog.getByTestId('unmask-reason').fill('核实走访对象身份');
    await dialog.getByTestId('unmask-confirm').click();
    await expect.poll(() => dialog.getByTestId('unmask-id-no').innerText()).toBe(head.id);
    await shot(page, 'people-unmasked');
    await dialog.getByTestId('unmask-close').click();

    // The household page lists both, and the address page everything at the address.
    await page.getByTestId('link-household').locator('a').first().click();
    await expect.poll(() => page.getByTestId('household-members').innerText()).toContain(head.name);
    await page.getByTestId('household-address').click();
    await expect.poll(() => page.getByTestId('address-people').innerText()).toContain(spouse.name);
  });

  it('registers a person through the form with field errors, edits it, and keeps every change and state', async () => {
    const centre = await api('town_centre');
    const page = await consoleSignIn(browser, 'town_centre');
    await page.goto('/people');
    await page.getByTestId('people-new').click();
    const form = page.getByTestId('person-form');
    await page.getByTestId('pf-save').waitFor();
    const errorOf = (testid: string) => page.locator('.el-form-item', { has: page.getByTestId(testid) }).locator('.el-form-item__error');

    // Nothing filled: each required field says so.
    await page.getByTestId('pf-save').click();
    await expect.poll(() => errorOf('pf-name').innerText()).toBe('请填写姓名');
    expect(await errorOf('pf-id-no').innerText()).toBe('请填写证件号码');
    expect(await errorOf('pf-address').innerText()).toContain('现住地址');

    const name = '表单' + rand(4);
    const id = idNo('19850214', true);
    await page.getByTestId('pf-kind').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: '户籍人口' }).click();
    await page.getByTestId('pf-name').fill(name);
    // A wrong check character and a sex that contradicts the number, caught before sending.
    await page.getByTestId('pf-id-no').fill(spoil(id));
    await page.getByTestId('pf-sex').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: '女性' }).click();
    await page.getByTestId('pf-save').click();
    await expect.poll(() => errorOf('pf-id-no').innerText()).toBe(`身份证号校验位错误，应为 ${id[17]}`);
    await page.getByTestId('pf-id-no').fill(id);
    await page.getByTestId('pf-save').click();
    await expect.poll(() => errorOf('pf-sex').innerText()).toContain('性别与身份证号不符');
    await page.getByTestId('pf-sex').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: '男性' }).click();

    // The address is parsed on request: divisions and confidence.
    await page.getByTestId('pf-address').fill(`东昌府区古楼街道古城社区光明路${Number(rand(2)) + 100}号1号楼1单元101室`);
    await page.getByTestId('pf-parse').click();
    await expect.poll(() => page.getByTestId('pf-divisions').innerText()).toContain('古楼街道');
    expect(await page.getByTestId('pf-confidence').innerText()).toMatch(/置信度 \d+%/);
    await page.getByTestId('pf-phone').fill('1390635' + rand(4));
    await shot(page, 'people-form');

    // A number already registered: the server's field error, next to the field.
    const taken = (await centre<Found>(`/api/people?per_page=1`)).items[0];
    if (taken) {
      const clear = await centre<{ id_no: string }>(`/api/people/${taken.id}/unmask`, { method: 'POST', body: JSON.stringify({ reason: '端到端测试核对' }) });
      await page.getByTestId('pf-id-no').fill(clear.id_no);
      await page.getByTestId('pf-sex').click();
      await page.locator('.el-select-dropdown__item:visible', { hasText: '未说明的性别' }).click();
      await page.getByTestId('pf-save').click();
      await expect.poll(() => errorOf('pf-id-no').innerText()).toContain('已登记');
      expect(await page.getByTestId('person-form-error').innerText()).toContain('已登记');
      await page.getByTestId('pf-id-no').fill(id);
      await page.getByTestId('pf-sex').click();
      await page.locator('.el-select-dropdown__item:visible', { hasText: '男性' }).click();
    }
    await page.getByTestId('pf-save').click();
    await page.waitForURL(/\/people\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByTestId('person-name').innerText()).toBe(name);
    expect(await page.getByTestId('person-basic').innerText()).toContain('1985-02-14');
    await form.waitFor({ state: 'hidden' });

    // Edit: a new occupation, kept in the history.
    await page.getByTestId('person-edit').click();
    await page.getByTestId('pf-occupation').fill('教师');
    await page.getByTestId('pf-save').click();
    await expect.poll(() => page.getByTestId('person-basic').innerText()).toContain('教师');
    await page.locator('#tab-history').click();
    await expect.poll(() => page.getByTestId('person-history').innerText()).toContain('教师');

    // 迁出, then 恢复在册: the record stays, the history says so.
    await page.getByTestId('person-state-moved_out').click();
    await page.getByTestId('state-note').fill('迁往济南市');
    await page.getByTestId('state-dialog').getByTestId('dialog-confirm').click();
    await expect.poll(() => page.getByTestId('person-state').innerText()).toBe('迁出');
    await page.getByTestId('person-state-active').click();
    await page.getByTestId('state-dialog').getByTestId('dialog-confirm').click();
    await expect.poll(() => page.getByTestId('person-state').innerText()).toBe('在册');
    await expect.poll(() => page.getByTestId('person-history').innerText()).toContain('迁往济南市');
    await shot(page, 'people-history');
  });

  it('collects a person offline in the field app and sends it once back online', async () => {
    const person = { name: '离线' + rand(4), id: idNo('19920615', false) };
    const ctx = await context(browser, 'phone');
    await ctx.setGeolocation(IN_GRID);
    const page = await ctx.newPage();
    await signInField(page, 'grid_worker');
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    // The code tables are kept for offline use once loaded.
    await expect.poll(() => page.evaluate(() => localStorage.getItem('civgrid.field.cache.dicts') !== null)).toBe(true);

    await ctx.setOffline(true);
    await page.getByTestId('offline-banner').waitFor();
    await page.getByTestId('collect-button').click();
    await page.getByTestId('person-kind').click();
    const picker = page.getByTestId('person-kind-picker');
    await picker.locator('.van-picker-column__item', { hasText: '流动人口' }).click();
    await picker.locator('.van-picker__confirm').click();
    await expect.poll(() => page.getByTestId('person-kind').locator('input').inputValue()).toBe('流动人口');
    await page.getByTestId('person-name').locator('input').fill(person.name);
    // A wrong check character is caught on the phone, with the right one named.
    await page.getByTestId('person-id-no').locator('input').fill(spoil(person.id));
    await page.getByTestId('person-submit').click();
    await expect.poll(() => page.getByTestId('person-id-no').innerText()).toContain(`应为 ${person.id[17]}`);
    await page.getByTestId('person-id-no').locator('input').fill(person.id);
    await page.getByTestId('person-phone').locator('input').fill('137' + rand(8));
    await page.getByTestId('person-address').locator('textarea').fill('东昌府区古楼街道古城社区光明路8号');
    await shot(page, 'people-field-form');
    await page.getByTestId('person-submit').click();
    await page.waitForURL(/\/field\/queue$/);
    const item = page.getByTestId('queue-item').filter({ hasText: person.name });
    await expect.poll(() => item.getAttribute('data-state')).toBe('pending');
    await shot(page, 'people-field-queued');

    const gw = await api('grid_worker');
    expect((await gw<Found>(`/api/people?q=${person.id}`)).items).toHaveLength(0);
    await ctx.setOffline(false);
    await expect.poll(() => item.count(), SENT_WITHIN).toBe(0);
    await page.getByTestId('sent-item').filter({ hasText: person.name }).first().waitFor();
    const after = await gw<Found>(`/api/people?q=${person.id}`);
    expect(after.items.map((p) => p.name)).toEqual([person.name]);

    // The same number again: the server refuses it; the item stays, failed, with the reason next
    // to the field once opened, and goes through after the correction.
    const second = { name: '重号' + rand(4), id: idNo('19930707', true) };
    await page.getByTestId('tab-people').click();
    await page.getByTestId('people-nav').locator('.van-nav-bar__right').click();
    await page.getByTestId('person-kind').click();
    await page.getByTestId('person-kind-picker').locator('.van-picker-column__item', { hasText: '户籍人口' }).click();
    await page.getByTestId('person-kind-picker').locator('.van-picker__confirm').click();
    await page.getByTestId('person-name').locator('input').fill(second.name);
    await page.getByTestId('person-id-no').locator('input').fill(person.id);
    await page.getByTestId('person-submit').click();
    await page.waitForURL(/\/field\/queue$/);
    const refused = page.getByTestId('queue-item').filter({ hasText: second.name });
    await expect.poll(() => refused.getAttribute('data-state')).toBe('failed');
    expect(await refused.getByTestId('queue-item-error').innerText()).toContain('已登记');
    await shot(page, 'people-field-refused');
    await refused.getByTestId('queue-item-edit').click();
    await expect.poll(() => page.getByTestId('person-id-no').innerText()).toContain('已登记');
    await page.getByTestId('person-id-no').locator('input').fill(second.id);
    await page.getByTestId('person-submit').click();
    await page.waitForURL(/\/field\/queue$/);
    await expect.poll(() => refused.count(), SENT_WITHIN).toBe(0);
    expect((await gw<Found>(`/api/people?q=${second.id}`)).items.map((p) => p.name)).toEqual([second.name]);
    await ctx.close();
  });
});
