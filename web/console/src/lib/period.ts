// Evaluation periods (week Monday–Sunday, month, quarter, year) as China days `YYYY-MM-DD`:
// where a period starts and ends, the one before or after, and its name. One place for every
// screen that picks a period (rankings, bulletins); `usePeriod` holds a screen's choice.
import { computed, ref, type Ref } from 'vue';
import { lang } from '../i18n';
import { day as chinaDay } from './time';

export type PeriodKind = 'week' | 'month' | 'quarter' | 'year';
export const PERIOD_KINDS: PeriodKind[] = ['week', 'month', 'quarter', 'year'];

const parse = (d: string) => {
  const [y, m, dd] = d.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, dd));
};
const fmt = (d: Date) => d.toISOString().slice(0, 10);

/** The first day of the period of `kind` holding `day`. */
export function periodStart(kind: PeriodKind, day: string): string {
  const d = parse(day);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (kind === 'week') return fmt(new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * 86_400_000));
  if (kind === 'month') return fmt(new Date(Date.UTC(y, m, 1)));
  if (kind === 'quarter') return fmt(new Date(Date.UTC(y, m - (m % 3), 1)));
  return fmt(new Date(Date.UTC(y, 0, 1)));
}

/** The first day of the period `n` periods after (before, when negative) the one holding `day`. */
export function shiftPeriod(kind: PeriodKind, day: string, n: number): string {
  const d = parse(periodStart(kind, day));
  if (kind === 'week') return fmt(new Date(d.getTime() + n * 7 * 86_400_000));
  const months = kind === 'month' ? n : kind === 'quarter' ? 3 * n : 12 * n;
  return fmt(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1)));
}

/** The last day of the period holding `day`. */
export function periodEnd(kind: PeriodKind, day: string): string {
  return fmt(new Date(parse(shiftPeriod(kind, day, 1)).getTime() - 86_400_000));
}

/** ISO week number of `day`. */
function isoWeek(day: string): { year: number; week: number } {
  const d = parse(day);
  const thursday = new Date(d.getTime() + (3 - ((d.getUTCDay() + 6) % 7)) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1);
  return { year, week: 1 + Math.floor((thursday.getTime() - jan1) / (7 * 86_400_000)) };
}

/** The name of the period holding `day`, as the server writes it: 2026年第47周（11月16日—11月22日）,
 * 2026年10月, 2026年第四季度, 2026年. */
export function periodLabel(kind: string, day: string | null | undefined): string {
  if (!day) return '';
  const en = lang.value === 'en';
  const k = kind as PeriodKind;
  const s = periodStart(k, day);
  const [y, m] = s.split('-').map(Number);
  if (k === 'week') {
    const w = isoWeek(s);
    const e = periodEnd(k, s);
    const md = (x: string) => `${Number(x.slice(5, 7))}月${Number(x.slice(8, 10))}日`;
    const mdEn = (x: string) => `${x.slice(5, 7)}.${x.slice(8, 10)}`;
    return en ? `${w.year} week ${w.week} (${mdEn(s)}–${mdEn(e)})` : `${w.year}年第${w.week}周（${md(s)}—${md(e)}）`;
  }
  const q = Math.floor((m - 1) / 3);
  if (k === 'month') return en ? `${s.slice(0, 7)}` : `${y}年${m}月`;
  if (k === 'quarter') return en ? `${y} Q${q + 1}` : `${y}年第${'一二三四'[q]}季度`;
  return en ? String(y) : `${y}年`;
}

/** Today in China. */
export const today = () => chinaDay(new Date());

/** A screen's period: kind and any day in it (empty: not chosen yet), its start and name. */
export function usePeriod(kind: PeriodKind = 'month', day = '') {
  const k = ref(kind) as Ref<PeriodKind>;
  const d = ref(day);
  const start = computed(() => (d.value ? periodStart(k.value, d.value) : ''));
  const label = computed(() => (d.value ? periodLabel(k.value, d.value) : ''));
  return { kind: k, day: d, start, label };
}
