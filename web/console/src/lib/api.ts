// What the generated client does not cover: a multipart request (a move with photos). It
// ends the same way as `call`: the data, or an ApiError (and a 401 returns to sign-in).
import { ApiError, call } from '@civgrid/shared';
import { errorText } from '@civgrid/shared/src/errors';
import { ElMessage } from 'element-plus';

export function postForm<T>(path: string, form: FormData): Promise<T> {
  return call<T>(
    (async () => {
      let response: Response;
      try {
        response = await fetch(path, { method: 'POST', credentials: 'same-origin', body: form });
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

/** Shows the server's message of a failed request (401 is handled by the session); in English,
 * an English text for the common codes. */
export function showError(e: unknown) {
  if (!(e instanceof ApiError) || e.status !== 401) ElMessage.error(errorText(e));
}
