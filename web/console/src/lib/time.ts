import { ref } from 'vue';
import { call, client } from '@civgrid/shared';

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

/** Working minutes as hours and minutes ("4小时30分钟", "4h 30m"); the sign is the caller's. */
export function fmtMinutes(m: number, en: boolean): string {
  let a = Math.abs(m);
  const h = Math.floor(a / 60);
  a -= h * 60;
  return en ? [h ? `${h}h` : '', a || !h ? `${a}m` : ''].join(' ').trim() : (h ? `${h}小时` : '') + (a || !h ? `${a}分钟` : '');
}

/** A time limit: whole working days as "3 个工作日" ("3 working days"), otherwise hours. */
export function fmtLimit(m: number, perDay: number, en: boolean): string {
  if (m <= 0 || perDay <= 0 || m % perDay) return fmtMinutes(m, en);
  const n = m / perDay;
  return en ? `${n} working day${n === 1 ? '' : 's'}` : `${n} 个工作日`;
}

/** Working minutes per day, from the server's calendar (480 until it answers, or if it fails). */
export const minutesPerDay = ref(480);
let calendarAsked = false;
export function loadMinutesPerDay() {
  if (calendarAsked) return;
  calendarAsked = true;
  call(client.GET('/api/calendar')).then(
    (c) => (minutesPerDay.value = c.minutes_per_day),
    () => (calendarAsked = false),
  );
}
