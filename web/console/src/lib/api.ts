// Requests the generated client cannot type yet (new endpoints) or sends differently
// (multipart with photos). They end the same way as `call`: data, or an ApiError (and a
// 401 returns to the sign-in page).
import { ApiError, call } from '@civgrid/shared';
import { ElMessage } from 'element-plus';

export type Query = Record<string, string | number | boolean | null | undefined>;

function qs(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? '?' + s : '';
}

export function req<T>(
  method: string,
  path: string,
  opts: { query?: Query; json?: unknown; form?: FormData } = {},
): Promise<T> {
  return call<T>(
    (async () => {
      let response: Response;
      try {
        response = await fetch(path + qs(opts.query), {
          method,
          credentials: 'same-origin',
          headers: opts.json !== undefined ? { 'content-type': 'application/json' } : undefined,
          body: opts.form ?? (opts.json !== undefined ? JSON.stringify(opts.json) : undefined),
        });
      } catch {
        throw new ApiError(0, 'offline', '网络不可用，请检查网络连接');
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return response.ok ? { data: body as T, response } : { error: body, response };
    })(),
  );
}

export const get = <T>(path: string, query?: Query) => req<T>('GET', path, { query });
export const post = <T>(path: string, json?: unknown) => req<T>('POST', path, { json: json ?? {} });

/** Shows the server's message of a failed request (401 is handled by the session). */
export function showError(e: unknown) {
  if (e instanceof ApiError) {
    if (e.status !== 401) ElMessage.error(e.message);
  } else {
    ElMessage.error(String(e));
  }
}
