// Base data (实有房屋, 出租房屋, 非公有制经济组织/社会组织): the township centre operator registers a
// let house with its owner through the console form (address parsed on request), finds it in the
// list with the owner's ID number masked, opens it, follows it to its standard address and back,
// and shows the owner's full ID number for a stated reason. Then an organisation: a wrong
// 统一社会信用代码 is caught next to its field, a valid one is saved, the organisation is found by
// name, and a second organisation with the same code gets the server's error next to the field.
// In the field app a grid worker collects an organisation offline (a wrong code caught on the
// phone) and a let house; the queue sends both once the phone is back online.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, context, launch, shot } from '../lib/browser';
import { consoleSignIn } from '../lib/console';
import { IN_GRID, SENT_WITHIN, signInField } from '../lib/field';

const rand = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** A valid citizen ID number (GB 11643) of 东昌府区, born on `birth` (YYYYMMDD). */
function idNo(birth: string): string {
  const first17 = '371502' + birth + rand(3);
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * ID_WEIGHTS[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const usccCheck = (first17: string) =>
  USCC_CHARS[(31 - ([...first17].reduce((s, c, i) => s + USCC_CHARS.indexOf(c) * USCC_WEIGHTS[i], 0) % 31)) % 31];
/** A valid 统一社会信用代码 (GB 32100) of 东昌府区, new on every run. */
function uscc(): string {
  const first17 = '91371502MA' + rand(7);
  return first17 + usccCheck(first17);
}
/** The same code with a wrong check character. */
const spoil = (code: string) => code.slice(0, 17) + (code[17] === '0' ? '1' : '0');

type Found = { items: { id: string; name?: string | null; house_no?: string; owner_id_no?: string | null; uscc?: string | null }[] };

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** The error Element Plus shows under the form item holding `testid`. */
const errorOf = (page: Page, testid: string) => page.locator('.el-form-item', { has: page.getByTestId(testid) }).locator('.el-form-item__error');

/** Waits until no loading mask is shown (a list has its rows). */
const settled = (page: Page) => expect.poll(() => page.locator('.el-loading-mask:visible').count()).toBe(0);

async function pick(page: Page, testid: string, label: string) {
  await page.getByTestId(testid).click();
  await page.locator('.el-select-dropdown__item:visible', { hasText: label }).first().click();
}

describe('houses and organisations', () => {
  it('registers a let house with its owner, finds it masked, opens it and unmasks the owner for a reason', async () => {
    const centre = await api('town_centre');
    const owner = { name: '房东' + rand(3), id: idNo('19700315'), phone: '139' + rand(8) };
    const houseNo = 'E2E' + rand(7);
    const street = `运河路${Number(rand(2)) + 10}号`;
    const address = `东昌府区古楼街道古城社区${street}${Number(rand(1)) + 1}号楼${Number(rand(1)) + 1}单元${Number(rand(3)) + 100}室`;

    const page = await consoleSignIn(browser, 'town_centre');
    await page.getByTestId('nav-houses').click();
    await page.getByTestId('houses-table').waitFor();
    await page.getByTestId('houses-new').click();
    await page.getByTestId('hf-save').waitFor();

    // Nothing filled: the address is required.
    await page.getByTestId('hf-save').click();
    await expect.poll(() => errorOf(page, 'hf-address').innerText()).toBe('请填写房屋地址');

    // The address, parsed on request: divisions and confidence.
    await page.getByTestId('hf-address').fill(address);
    await page.getByTestId('hf-parse').click();
    await expect.poll(() => page.getByTestId('hf-divisions').innerText()).toContain('古楼街道');
    expect(await page.getByTestId('hf-confidence').innerText()).toMatch(/置信度 \d+%/);
    await page.getByTestId('hf-house-no').fill(houseNo);
    await page.getByTestId('hf-name').fill('运河小区');
    await pick(page, 'hf-purpose', '住宅');
    await page.getByTestId('hf-floor-area').locator('input').fill('86.5');
    await page.getByTestId('hf-rental').click();
    await page.getByTestId('hf-owner-name').fill(owner.name);
    // A wrong check character in the owner's number is caught before sending.
    await page.getByTestId('hf-owner-id-no').fill(owner.id.slice(0, 17) + (owner.id[17] === '0' ? '1' : '0'));
    await page.getByTestId('hf-save').click();
    await expect.poll(() => errorOf(page, 'hf-owner-id-no').innerText()).toBe(`身份证号校验位错误，应为 ${owner.id[17]}`);
    await page.getByTestId('hf-owner-id-no').fill(owner.id);
    await page.getByTestId('hf-owner-phone').fill(owner.phone);
    await shot(page, 'houses-form');
    await page.getByTestId('hf-save').click();

    // Saved: its page, let, with the owner masked.
    await page.waitForURL(/\/houses\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByTestId('house-title').innerText()).toContain(houseNo);
    expect(await page.getByTestId('house-rental').innerText()).toBe('出租房屋');
    const masked = owner.id.slice(0, 6) + '********' + owner.id.slice(14);
    expect(await page.getByTestId('house-owner-id-no').innerText()).toBe(masked);
    expect(await page.getByTestId('house-basic').innerText()).toContain('住宅');
    const [created] = (await centre<Found>(`/api/houses?q=${houseNo}`)).items;
    expect(created?.house_no).toBe(houseNo);

    // The list: by its number, let houses only, the owner's number masked.
    await page.getByTestId('nav-houses').click();
    await page.getByTestId('houses-q').fill(houseNo);
    await page.getByTestId('houses-rental').click();
    await page.getByTestId('houses-search').click();
    const row = page.getByTestId(`house-row-${created.id}`);
    await row.waitFor();
    const rowText = await page.locator('.el-table__row', { has: row }).innerText();
    expect(rowText).toContain(masked);
    expect(rowText).not.toContain(owner.id);
    expect(rowText).toContain(owner.name);
    await settled(page);
    await shot(page, 'houses-list');
    // And by an address fragment.
    await page.getByTestId('houses-q').fill('');
    await page.getByTestId('houses-address').fill(street);
    await page.getByTestId('houses-search').click();
    await row.waitFor();

    // Open it; its address page lists it and links back.
    await row.click();
    await page.getByTestId('house-basic').waitFor();
    await page.getByTestId('house-address').click();
    await page.getByTestId('address-houses').waitFor();
    await page.getByTestId(`address-house-${created.id}`).click();
    await page.getByTestId('house-basic').waitFor();
    expect(page.url()).toContain(`/houses/${created.id}`);

    // 查看完整信息: a reason, then the owner's full number and phone.
    await page.getByTestId('house-unmask').click();
    const dialog = page.getByTestId('unmask-dialog');
    await dialog.getByTestId('unmask-confirm').click();
    await expect.poll(() => dialog.getByTestId('unmask-error').innerText()).toContain('4');
    await dialog.getByTestId('unmask-reason').fill('核实出租房屋房主身份');
    await dialog.getByTestId('unmask-confirm').click();
    await expect.poll(() => dialog.getByTestId('unmask-id-no').innerText()).toBe(owner.id);
    expect(await dialog.getByTestId('unmask-phone').innerText()).toBe(owner.phone);
    await shot(page, 'houses-unmasked');
    await dialog.getByTestId('unmask-close').click();
    expect(await page.getByTestId('house-owner-id-no').innerText()).toBe(owner.id);

    // An edit (not rented any more) goes to the history.
    await page.getByTestId('house-edit').click();
    await page.getByTestId('hf-rental').click();
    await page.getByTestId('hf-save').click();
    await page.getByTestId('house-form').waitFor({ state: 'hidden' });
    await expect.poll(() => page.getByTestId('house-rental').count()).toBe(0);
    // Saving hides the clear values again.
    expect(await page.getByTestId('house-owner-id-no').innerText()).toBe(masked);
    // Left empty, an edit keeps the owner's number; removed on purpose, it is gone.
    await page.getByTestId('house-edit').click();
    await page.getByTestId('hf-clear-id').click();
    await page.getByTestId('hf-save').click();
    await page.getByTestId('house-form').waitFor({ state: 'hidden' });
    await expect.poll(() => page.getByTestId('house-owner-id-no').innerText()).toBe('—');
    await page.locator('#tab-history').click();
    await expect.poll(() => page.getByTestId('house-history').innerText()).toContain('出租房屋');
    expect(await page.getByTestId('house-history').innerText()).toContain('新增登记');
  });

  it('catches a wrong credit code next to its field, saves a valid one, finds it by name and refuses it twice', async () => {
    const centre = await api('town_centre');
    const code = uscc();
    const name = `聊城端测${rand(4)}商贸有限公司`;
    const rep = { name: '法人' + rand(3), id: idNo('19820620') };

    const page = await consoleSignIn(browser, 'town_centre');
    await page.getByTestId('nav-orgs').click();
    await page.getByTestId('orgs-table').waitFor();
    await page.getByTestId('orgs-new').click();
    await page.getByTestId('of-save').waitFor();

    await pick(page, 'of-kind', '非公有制经济组织');
    await page.getByTestId('of-name').fill(name);
    await page.getByTestId('of-uscc').fill(spoil(code));
    await page.getByTestId('of-address').fill(`东昌府区古楼街道古城社区运河路${Number(rand(2)) + 10}号`);
    await page.getByTestId('of-rep-name').fill(rep.name);
    await page.getByTestId('of-rep-id-no').fill(rep.id);
    await page.getByTestId('of-employees').locator('input').fill('25');
    await page.getByTestId('of-save').click();
    await expect.poll(() => errorOf(page, 'of-uscc').innerText()).toBe(`统一社会信用代码校验位错误，应为 ${code[17]}`);
    expect(await page.getByTestId('org-form-error').innerText()).toContain('标红');
    // Letters GB 32100 leaves out are named.
    await page.getByTestId('of-uscc').fill(code.slice(0, 10) + 'I' + code.slice(11));
    await page.getByTestId('of-save').click();
    await expect.poll(() => errorOf(page, 'of-uscc').innerText()).toContain('不允许的字符 I');
    await shot(page, 'orgs-form-uscc-error');
    // Nothing was sent.
    expect((await centre<Found>(`/api/orgs?q=${code}`)).items).toHaveLength(0);

    await page.getByTestId('of-uscc').fill(code);
    await page.getByTestId('of-save').click();
    await page.waitForURL(/\/orgs\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByTestId('org-title').innerText()).toBe(name);
    expect(await page.getByTestId('org-uscc').innerText()).toBe(code);
    expect(await page.getByTestId('org-kind').innerText()).toBe('非公有制经济组织');
    expect(await page.getByTestId('org-rep-id-no').innerText()).toBe(rep.id.slice(0, 6) + '********' + rep.id.slice(14));
    await shot(page, 'orgs-page');

    // Found by part of its name in the list, and by its code.
    await page.getByTestId('nav-orgs').click();
    await page.getByTestId('orgs-q').fill(name.slice(2, 8));
    await page.getByTestId('orgs-q').press('Enter');
    const [org] = (await centre<Found>(`/api/orgs?q=${code}`)).items;
    expect(org?.name).toBe(name);
    const row = page.getByTestId(`org-row-${org.id}`);
    await row.waitFor();
    expect(await page.locator('.el-table__row', { has: row }).innerText()).toContain(code);
    await settled(page);
    await shot(page, 'orgs-list');
    await page.getByTestId('orgs-q').fill(code);
    await page.getByTestId('orgs-search').click();
    await expect.poll(() => page.locator('[data-row="org"]').count()).toBe(1);

    // The same code again: the server refuses it, next to the field.
    await page.getByTestId('orgs-new').click();
    await pick(page, 'of-kind', '非公有制经济组织');
    await page.getByTestId('of-name').fill(name + '分公司');
    await page.getByTestId('of-uscc').fill(code);
    await page.getByTestId('of-address').fill('东昌府区古楼街道古城社区运河路88号');
    await page.getByTestId('of-save').click();
    await expect.poll(() => errorOf(page, 'of-uscc').innerText()).toContain('已登记');
    await page.waitForTimeout(300); // the error's fade-in
    await shot(page, 'orgs-form-duplicate');
    expect((await centre<Found>(`/api/orgs?q=${code}`)).items).toHaveLength(1);
  });

  it('imports houses from a CSV in the console: a bad row refuses the file, valid-only keeps the good rows', async () => {
    const centre = await api('town_centre');
    const no = 'IMP' + rand(7);
    const header = '房屋编号,房屋地址,网格编码,房屋名称,建筑用途,房屋用途,建筑面积,隐患类型,房主姓名,房主证件类型,房主证件号码,房主联系电话,是否出租,经纬度';
    const good = `${no},东昌府区古楼街道古城社区柳园路${Number(rand(2)) + 10}号,,,住宅,出租,72,,房东${rand(2)},居民身份证,${idNo('19690707')},139${rand(8)},是,`;
    const bad = `${no}X,东昌府区古楼街道古城社区柳园路99号,,,住宅,,很大,,,,,,是,`;
    const csv = '\ufeff' + [header, good, bad].join('\r\n') + '\r\n';

    const page = await consoleSignIn(browser, 'town_centre');
    await page.getByTestId('nav-houses').click();
    await page.getByTestId('houses-import').click();
    await expect.poll(() => page.getByTestId('import-set-houses').getAttribute('class')).toContain('is-active');
    const send = async (mode: 'mode-strict' | 'mode-valid-only') => {
      await page.getByTestId(mode).click();
      await page.getByTestId('import-file').setInputFiles({ name: 'houses.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
      await expect.poll(() => page.getByTestId('import-file-name').innerText()).toBe('houses.csv');
      await page.getByTestId('import-submit').click();
      await page.getByTestId('import-report').waitFor();
    };
    await send('mode-strict');
    await expect.poll(() => page.getByTestId('import-written').innerText()).toBe('未写入任何数据');
    expect(await page.getByTestId('import-errors').innerText()).toContain('建筑面积');
    expect((await centre<Found>(`/api/houses?q=${no}`)).items).toHaveLength(0);
    await send('mode-valid-only');
    await expect.poll(() => page.getByTestId('import-count-created').innerText()).toContain('1');
    expect(await page.getByTestId('import-count-failed').innerText()).toContain('1');
    await shot(page, 'houses-import-report');
    const found = (await centre<Found>(`/api/houses?q=${no}`)).items;
    expect(found).toHaveLength(1);
  });

  it('collects an organisation offline and a let house in the field app; the queue sends them once online', async () => {
    const code = uscc();
    const orgName = `聊城采集${rand(4)}餐饮管理有限公司`;
    const houseNo = 'F' + rand(8);
    const ctx = await context(browser, 'phone');
    await ctx.setGeolocation(IN_GRID);
    const page = await ctx.newPage();
    await signInField(page, 'grid_worker');
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await expect.poll(() => page.evaluate(() => localStorage.getItem('civgrid.field.cache.dicts') !== null)).toBe(true);

    await ctx.setOffline(true);
    await page.getByTestId('offline-banner').waitFor();
    await page.getByTestId('collect-org').click();
    await page.getByTestId('org-kind').click();
    const picker = page.getByTestId('org-kind-picker');
    await picker.locator('.van-picker-column__item', { hasText: '非公有制经济组织' }).click();
    await picker.locator('.van-picker__confirm').click();
    await page.getByTestId('org-name').locator('input').fill(orgName);
    await page.getByTestId('org-uscc').locator('input').fill(spoil(code));
    await page.getByTestId('org-address').locator('textarea').fill(`东昌府区古楼街道古城社区运河路${Number(rand(2)) + 10}号`);
    await page.getByTestId('org-submit').click();
    await expect.poll(() => page.getByTestId('org-uscc').innerText()).toContain(`应为 ${code[17]}`);
    await page.getByTestId('org-uscc').locator('input').fill(code);
    await page.getByTestId('org-employees').locator('input').fill('12');
    await shot(page, 'orgs-field-form');
    await page.getByTestId('org-submit').click();
    await page.waitForURL(/\/field\/queue$/);
    const orgItem = page.getByTestId('queue-item').filter({ hasText: orgName });
    await expect.poll(() => orgItem.getAttribute('data-state')).toBe('pending');
    expect(await orgItem.getByTestId('queue-item-kind').innerText()).toBe('组织');

    // A let house, queued behind it.
    await page.getByTestId('tab-home').click();
    await page.getByTestId('collect-house').click();
    await page.getByTestId('house-address').locator('textarea').fill(`东昌府区古楼街道古城社区运河路${Number(rand(2)) + 10}号2号楼1单元${Number(rand(3)) + 100}室`);
    await page.getByTestId('house-no').locator('input').fill(houseNo);
    await page.getByTestId('house-rental-switch').click();
    await page.getByTestId('house-owner-name').locator('input').fill('房东' + rand(3));
    await page.getByTestId('house-owner-phone').locator('input').fill('138' + rand(8));
    await shot(page, 'houses-field-form');
    await page.getByTestId('house-submit').click();
    await page.waitForURL(/\/field\/queue$/);
    const houseItem = page.getByTestId('queue-item').filter({ hasText: houseNo });
    await expect.poll(() => houseItem.getAttribute('data-state')).toBe('pending');
    await shot(page, 'houses-orgs-field-queued');

    const gw = await api('grid_worker');
    expect((await gw<Found>(`/api/orgs?q=${code}`)).items).toHaveLength(0);
    await ctx.setOffline(false);
    await expect.poll(() => orgItem.count(), SENT_WITHIN).toBe(0);
    await expect.poll(() => houseItem.count(), SENT_WITHIN).toBe(0);
    await page.getByTestId('sent-item').filter({ hasText: orgName }).first().waitFor();
    expect((await gw<Found>(`/api/orgs?q=${code}`)).items.map((o) => o.name)).toEqual([orgName]);
    const [h] = (await gw<Found & { items: { is_rental?: boolean }[] }>(`/api/houses?q=${houseNo}`)).items;
    expect(h).toMatchObject({ house_no: houseNo, is_rental: true });
    await ctx.close();
  });
});
