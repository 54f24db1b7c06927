// The browser-side checks of ID numbers and phones match GB 11643 and the server's rules.
import { describe, expect, it } from 'vitest';
import { checkIdCard, checkPhone, idCheckChar } from '@civgrid/shared/src/idcard';

/** A valid number from its first 17 digits. */
const valid = (first17: string) => first17 + idCheckChar(first17);

describe('checkIdCard', () => {
  it('accepts a valid number and derives birth date and sex', () => {
    const id = valid('37150219900101123');
    const r = checkIdCard(id);
    expect(r).toEqual({ ok: true, facts: { id, birthDate: '1990-01-01', sex: '1' } });
    expect(checkIdCard(valid('37150219851231002'))).toMatchObject({ ok: true, facts: { sex: '2', birthDate: '1985-12-31' } });
  });

  it('knows the standard example and a lower-case x', () => {
    // GB 11643's own example: 11010519491231002X.
    expect(checkIdCard('11010519491231002x')).toMatchObject({ ok: true, facts: { id: '11010519491231002X', sex: '2' } });
  });

  it('names the wrong check character', () => {
    const id = valid('37150219900101123');
    const wrong = id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
    expect(checkIdCard(wrong)).toMatchObject({ ok: false, code: 'id_check', message: `身份证号校验位错误，应为 ${id[17]}` });
  });

  it('refuses bad length, characters, province, dates', () => {
    expect(checkIdCard('3715021990')).toMatchObject({ ok: false, code: 'id_format' });
    expect(checkIdCard('37150219900101123A')).toMatchObject({ ok: false, code: 'id_format' });
    expect(checkIdCard(valid('99150219900101123'))).toMatchObject({ ok: false, code: 'id_province' });
    expect(checkIdCard(valid('37150219900230123'))).toMatchObject({ ok: false, code: 'id_date' });
    expect(checkIdCard(valid('37150220990101123'), new Date(2026, 0, 1))).toMatchObject({ ok: false, code: 'id_date' });
  });

  it('upgrades a 15-digit number', () => {
    const r = checkIdCard('371502900101123');
    expect(r.ok && r.facts.id).toBe(valid('37150219900101123'));
  });
});

describe('checkPhone', () => {
  it('accepts mobiles and landlines with area code', () => {
    expect(checkPhone('138 0635 1234')).toEqual({ ok: true, phone: '13806351234' });
    expect(checkPhone('+86 13806351234')).toEqual({ ok: true, phone: '13806351234' });
    expect(checkPhone('0635-8221234')).toEqual({ ok: true, phone: '0635-8221234' });
  });
  it('refuses the rest', () => {
    for (const p of ['12806351234', '8221234', '0635-0221234', '1380635123']) expect(checkPhone(p).ok).toBe(false);
  });
});
