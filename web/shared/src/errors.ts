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
