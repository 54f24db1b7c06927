// The browser-side check of 统一社会信用代码 matches GB 32100 and the server's rules and messages.
import { describe, expect, it } from 'vitest';
import { checkUscc, usccCheckChar } from '@civgrid/shared/src/uscc';

describe('checkUscc', () => {
  it('accepts valid codes, upper-cased and trimmed', () => {
    // The server's own test code, and one whose check character is 0 (31 − Σ mod 31 = 31).
    expect(checkUscc('91350100M000100Y43')).toEqual({ ok: true, uscc: '91350100M000100Y43' });
    expect(checkUscc(' 91350100m000100y43 ')).toEqual({ ok: true, uscc: '91350100M000100Y43' });
    const zero = Array.from({ length: 31 }, (_, i) => '9137150' + '0123456789ABCDEFGHJKLMNPQRTUWXY'[i] + '000000000').find(
      (f) => usccCheckChar(f) === '0',
    )!;
    expect(zero).toBeDefined();
    expect(checkUscc(zero + '0')).toMatchObject({ ok: true });
  });

  it('computes the check character with the standard weights', () => {
    expect(usccCheckChar('91350100M000100Y4')).toBe('3');
    expect(usccCheckChar('91110000100000589')).toBe('A');
  });

  it('names the wrong check character', () => {
    expect(checkUscc('91350100M000100Y44')).toEqual({ ok: false, code: 'uscc_invalid', message: '统一社会信用代码校验位错误，应为 3' });
  });

  it('refuses bad lengths and the letters GB 32100 leaves out', () => {
    expect(checkUscc('91350100M000100Y4')).toMatchObject({ ok: false, message: '统一社会信用代码应为 18 位' });
    expect(checkUscc('91350100M000100Y433')).toMatchObject({ ok: false, message: '统一社会信用代码应为 18 位' });
    for (const c of ['I', 'O', 'Z', 'S', 'V']) {
      expect(checkUscc(`91350100M000100${c}43`)).toMatchObject({ ok: false, message: `统一社会信用代码含有不允许的字符 ${c}（不用 I、O、Z、S、V）` });
    }
    // Full-width and other characters are not normalised (the server does not either).
    expect(checkUscc('９1350100M000100Y43')).toMatchObject({ ok: false, message: expect.stringContaining('不允许的字符 ９') });
    expect(checkUscc('91350100M000100-43')).toMatchObject({ ok: false, message: expect.stringContaining('不允许的字符 -') });
  });
});
