// What a failed request says to the user: the server's (Chinese) message as it is; in English,
// an English text for the common error codes. One map for both apps.
import { ApiError } from './index';
import { lang } from './i18n';

const EN: Record<string, string> = {
  unauthenticated: 'Please sign in',
  session_expired: 'Your session has ended; please sign in again',
  invalid_credentials: 'Wrong username or password',
  account_locked: 'The account is locked; try again later',
  account_disabled: 'The account is disabled; contact an administrator',
  forbidden: 'You are not allowed to do this',
  out_of_scope: 'This is outside your area',
  conflict: 'Someone else changed this in the meantime; reload and try again',
  move_not_allowed: 'This step is not allowed in the current state',
  validation_failed: 'Some input is not valid; check the form',
  offline: 'No network; check your connection',
  record_not_found: 'Not found',
  import_rejected: 'The file has errors; nothing was written',
  invalid_import_file: 'The file is not a valid import file; use the downloaded template',
  grid_not_found: 'No such grid',
  invalid_area_code: 'Not a valid area code',
};

/** The text to show for a failed request: an `ApiError`, a stored `{code, message}` (a queued
 * report's last error) or any thrown value. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError || (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')) {
    const { code, message } = e as { code: string; message?: string };
    return (lang.value === 'en' && EN[code]) || message || code;
  }
  return e instanceof Error ? e.message : String(e);
}

/** One problem with one form field, as `validation_failed` reports it. */
export interface FieldIssue {
  field: string;
  code: string;
  message: string;
}

/**
 * The per-field problems of a `validation_failed` answer (`details.issues`, or the single
 * `details.field`/`details.reason`), as field → message (several joined). Empty for any other
 * error.
 */
export function fieldErrors(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const d = (e instanceof ApiError ? e.details : (e as { details?: unknown } | null)?.details) as
    | { issues?: unknown; field?: unknown; reason?: unknown }
    | undefined;
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== 'validation_failed' || !d) return out;
  const add = (f: string, m: string) => (out[f] = out[f] ? `${out[f]}；${m}` : m);
  if (Array.isArray(d.issues)) {
    for (const i of d.issues as Partial<FieldIssue>[]) if (i && typeof i.field === 'string') add(i.field, String(i.message ?? i.code ?? ''));
  } else if (typeof d.field === 'string' && typeof d.reason === 'string') {
    add(d.field, d.reason);
  }
  return out;
}
