// The typed API client both apps use. Types come from the server's OpenAPI document
// (`npm run gen`); requests carry the session cookie; every failure becomes an `ApiError`
// with the server's stable code and Chinese message.
import createClient from 'openapi-fetch';
import type { paths, components } from './api';

export type { paths, components };
export type Schemas = components['schemas'];

/** An error the API answered with `{code, message, details}`, or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
  /** True when the request never reached the server (offline, DNS, refused). */
  get offline(): boolean {
    return this.status === 0;
  }
}

type Body = { code?: string; message?: string; details?: Record<string, unknown> };

/** Called on every 401 so the app can return to its sign-in page. */
let onUnauthenticated: (() => void) | undefined;
export function setUnauthenticatedHandler(f: () => void) {
  onUnauthenticated = f;
}

export const client = createClient<paths>({
  baseUrl: '',
  credentials: 'same-origin',
  fetch: async (req: Request) => {
    try {
      return await fetch(req);
    } catch {
      throw new ApiError(0, 'offline', '网络不可用，请检查网络连接');
    }
  },
});

/** Unwraps an openapi-fetch result: the data, or throws `ApiError`. */
export async function call<T>(
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await p;
  if (response.ok) return data as T;
  const b = (error ?? {}) as Body;
  if (response.status === 401 && onUnauthenticated) onUnauthenticated();
  throw new ApiError(
    response.status,
    b.code ?? 'http_' + response.status,
    b.message ?? `请求失败（${response.status}）`,
    b.details ?? {},
  );
}

/** The signed-in user as `/api/auth/me` answers it. */
export type Me = Schemas['UserView'];

export const LIGHT_COLOR: Record<string, string> = { green: '#2e9e44', yellow: '#e6a23c', red: '#d93026' };

/** A fresh idempotency key for a report (kept with a queued report across retries). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
