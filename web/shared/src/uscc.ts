// The 统一社会信用代码 (unified social credit code) checked in the browser before a form is sent
// (the server checks again and decides), as GB 32100 defines it: 18 characters over the 31
// symbols 0-9 A-H J-N P-R T U W-Y (no I, O, Z, S, V), the last one a check character. The
// messages are the server's, so the user sees the same text either way.

/** The 31 symbols, in value order. */
const CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character of the first 17 symbols (all valid): 31 − (Σ mod 31), 31 → 0. */
export function usccCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CHARS.indexOf(first17[i]) * WEIGHTS[i];
  return CHARS[(31 - (sum % 31)) % 31];
}

export type UsccResult = { ok: true; uscc: string } | { ok: false; code: 'uscc_invalid'; message: string };

/** Checks a code the way the server does: trimmed and upper-cased, nothing else normalised. */
export function checkUscc(input: string): UsccResult {
  const s = input.trim().toUpperCase();
  const chars = [...s];
  if (chars.length !== 18) return { ok: false, code: 'uscc_invalid', message: '统一社会信用代码应为 18 位' };
  const bad = chars.find((c) => !CHARS.includes(c));
  if (bad !== undefined) {
    return { ok: false, code: 'uscc_invalid', message: `统一社会信用代码含有不允许的字符 ${bad}（不用 I、O、Z、S、V）` };
  }
  const want = usccCheckChar(s);
  if (s[17] !== want) return { ok: false, code: 'uscc_invalid', message: `统一社会信用代码校验位错误，应为 ${want}` };
  return { ok: true, uscc: s };
}
