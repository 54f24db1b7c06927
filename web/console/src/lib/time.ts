// Times come from the server in UTC (RFC 3339) and are shown in China time.
const fmt = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});
const dayFmt = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

export function fmtTime(s?: string | null): string {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d.getTime()) ? s : fmt.format(d);
}

/** A `YYYY-MM-DD` date in China time. */
export function day(d: Date): string {
  return dayFmt.format(d);
}

/** Working minutes as hours and minutes ("4小时30分钟", "4h 30m"). */
export function fmtMinutes(m: number, en: boolean): string {
  const neg = m < 0;
  let a = Math.abs(m);
  const h = Math.floor(a / 60);
  a -= h * 60;
  const s = en ? [h ? `${h}h` : '', a || !h ? `${a}m` : ''].join(' ').trim() : (h ? `${h}小时` : '') + (a || !h ? `${a}分钟` : '');
  return neg ? '-' + s : s;
}
