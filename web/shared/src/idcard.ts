// Checks of personal identifiers done in the browser before a form is sent (the server checks
// again): the GB 11643 citizen ID number with its check character, and Chinese phone numbers.
// Messages follow the server's, so the user sees the same text either way.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';
const PROVINCES = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44',
  '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82', '83',
]);

/** The check character of the first 17 digits. */
export function idCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

export interface IdFacts {
  /** The normalised 18-character number. */
  id: string;
  /** YYYY-MM-DD */
  birthDate: string;
  /** GB/T 2261.1: 1 male, 2 female. */
  sex: '1' | '2';
}

export type IdResult = { ok: true; facts: IdFacts } | { ok: false; code: string; message: string };

/** Normalises full-width digits and x; upgrades a 15-digit number like the server does. */
export function normaliseId(input: string): string {
  return input
    .trim()
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xff10 + 48))
    .replace(/[xｘＸ]/g, 'X');
}

/** Checks a citizen ID number (居民身份证) as GB 11643 defines it. `today` for tests. */
export function checkIdCard(input: string, today: Date = new Date()): IdResult {
  let s = normaliseId(input);
  if (/^\d{15}$/.test(s)) {
    const up = s.slice(0, 6) + '19' + s.slice(6);
    s = up + idCheckChar(up);
  } else if (s.length !== 18) {
    return /^[\x20-\x7e]*$/.test(s)
      ? { ok: false, code: 'id_format', message: '身份证号应为 18 位（或旧版 15 位）' }
      : { ok: false, code: 'id_format', message: '身份证号只能包含数字，第 18 位可以是 X' };
  }
  if (!/^\d{17}[\dX]$/.test(s)) return { ok: false, code: 'id_format', message: '身份证号只能包含数字，第 18 位可以是 X' };
  if (!PROVINCES.has(s.slice(0, 2))) return { ok: false, code: 'id_province', message: `身份证号的省级代码 ${s.slice(0, 2)} 不存在` };
  const y = Number(s.slice(6, 10));
  const m = Number(s.slice(10, 12));
  const d = Number(s.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1850 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return { ok: false, code: 'id_date', message: `身份证号中的出生日期 ${s.slice(6, 14)} 不是有效日期` };
  }
  const birthDate = `${s.slice(6, 10)}-${s.slice(10, 12)}-${s.slice(12, 14)}`;
  const p = (n: number) => String(n).padStart(2, '0');
  const todayStr = `${today.getFullYear()}-${p(today.getMonth() + 1)}-${p(today.getDate())}`;
  if (birthDate > todayStr) return { ok: false, code: 'id_date', message: '身份证号中的出生日期晚于今天' };
  const want = idCheckChar(s);
  if (s[17] !== want) return { ok: false, code: 'id_check', message: `身份证号校验位错误，应为 ${want}` };
  return { ok: true, facts: { id: s, birthDate, sex: Number(s[16]) % 2 === 1 ? '1' : '2' } };
}

/** A mobile (11 digits starting 13–19) or a landline with its area code (0635-8221234[-分机]). */
export function checkPhone(input: string): { ok: true; phone: string } | { ok: false; message: string } {
  let s = input
    .trim()
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xff10 + 48))
    .replace(/[－—]/g, '-')
    .replace(/\s+/g, '');
  if (s.startsWith('+86')) s = s.slice(3).replace(/^-+/, '');
  if (/^861[3-9]\d{9}$/.test(s)) s = s.slice(2);
  if (/^1[3-9]\d{9}$/.test(s) || /^0\d{2,3}-[1-9]\d{6,7}(-\d{1,6})?$/.test(s)) return { ok: true, phone: s };
  return { ok: false, message: '电话号码格式不正确：手机号为 1 开头的 11 位数字，固定电话需带区号（如 0635-8221234）' };
}
