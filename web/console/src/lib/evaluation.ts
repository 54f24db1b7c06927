// Evaluation helpers shared by the rankings, schemes, bulletins and the dashboard: the subject
// kinds in order, the indicator list (loaded once), grades, stars and indicator values.
import { call, client, type Schemas } from '@civgrid/shared';
import { lang } from '../i18n';

export type SubjectKind = 'worker' | 'grid' | 'community' | 'township' | 'county' | 'department';
export const SUBJECT_KINDS: SubjectKind[] = ['worker', 'grid', 'community', 'township', 'county', 'department'];
export const GRADES = ['A', 'B', 'C', 'D', 'E'] as const;

let indicatorsLoading: Promise<Schemas['IndicatorInfo'][]> | undefined;

/** The indicators a scheme may use (asked once per page load; a failure is asked again). */
export function indicators(): Promise<Schemas['IndicatorInfo'][]> {
  indicatorsLoading ??= call(client.GET('/api/evaluation/indicators')).catch((e: unknown) => {
    indicatorsLoading = undefined;
    throw e;
  });
  return indicatorsLoading;
}

/** The tag colour of a grade. */
export function gradeType(g: string | null | undefined): 'success' | 'primary' | 'info' | 'warning' | 'danger' {
  return ({ A: 'success', B: 'primary', C: 'info', D: 'warning', E: 'danger' } as const)[g as 'A'] ?? 'info';
}

/** "★★★☆☆": `n` filled of `max`. */
export function stars(n: number | null | undefined, max = 5): string {
  const k = Math.max(0, Math.min(max, Math.round(n ?? 0)));
  return '★'.repeat(k) + '☆'.repeat(Math.max(0, max - k));
}

/** The most stars a scheme's bands give (5 when unknown). */
export function maxStars(scheme: { bands: { stars: number }[] } | null | undefined): number {
  return Math.max(0, ...(scheme?.bands ?? []).map((b) => b.stars)) || 5;
}

/** A score with two decimals, as the server keeps and ranks it (equal to two decimals = a tie). */
export const fmtScore = (v: number | null | undefined) => (v == null ? '—' : v.toFixed(2));

/** An indicator value with its unit ("96.50%", "3.2 小时", "12 次"). */
export function fmtValue(v: number | null | undefined, unit: string | null | undefined): string {
  if (v == null) return '—';
  const n = Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (!unit) return n;
  if (unit === '%') return n + '%';
  const en: Record<string, string> = { 小时: 'h', 次: '', 分钟: 'min', 公里: 'km' };
  return lang.value === 'en' ? `${n} ${en[unit] ?? unit}`.trim() : `${n} ${unit}`;
}

/** An attainment (a fraction, 1 = target reached) as a percentage. */
export const fmtAttainment = (a: number | null | undefined) => (a == null ? '—' : (a * 100).toFixed(1) + '%');
