// API helpers of the field app beside the shared typed client: multipart moves with photos,
// reads that fall back to the last copy kept in localStorage when offline, and the public config.
import { ApiError, call, client, type Schemas } from '@civgrid/shared';
import { setDicts } from '@civgrid/shared/src/dicts';

let unauthenticated: () => void = () => {};
export function onUnauthenticated(f: () => void) {
  unauthenticated = f;
}

/** POSTs `data` as JSON in a `data` part with `photo` parts; errors become `ApiError`. */
export async function postForm<T>(path: string, data: unknown, photos: Blob[]): Promise<T> {
  const form = new FormData();
  form.append('data', JSON.stringify(data));
  photos.forEach((p, i) => form.append('photo', p, `photo${i + 1}.jpg`));
  let r: Response;
  try {
    r = await fetch(path, { method: 'POST', body: form, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'offline', '网络不可用，请检查网络连接');
  }
  const body = (await r.json().catch(() => ({}))) as Record<string, unknown>;
  if (r.ok) return body as T;
  if (r.status === 401) unauthenticated();
  throw new ApiError(
    r.status,
    typeof body.code === 'string' ? body.code : `http_${r.status}`,
    typeof body.message === 'string' ? body.message : `请求失败（${r.status}）`,
    (body.details as Record<string, unknown>) ?? {},
  );
}

/** A move on an event; photos make it multipart. */
export function move(id: string, body: Schemas['MoveRequest'], photos: Blob[] = []): Promise<Schemas['EventDetail']> {
  if (photos.length) return postForm(`/api/events/${encodeURIComponent(id)}/moves`, body, photos);
  return call(client.POST('/api/events/{id}/moves', { params: { path: { id } }, body }));
}

/**
 * Loads `key` from the server and keeps a copy; when the server cannot be reached the last
 * copy is returned with `fresh: false`. Other errors are thrown.
 */
export async function cached<T>(key: string, load: () => Promise<T>): Promise<{ data: T; fresh: boolean }> {
  const k = 'civgrid.field.cache.' + key;
  try {
    const data = await load();
    try {
      localStorage.setItem(k, JSON.stringify(data));
    } catch {
      /* storage full: the copy is only a convenience */
    }
    return { data, fresh: true };
  } catch (e) {
    const copy = localStorage.getItem(k);
    if (e instanceof ApiError && e.offline && copy !== null) return { data: JSON.parse(copy) as T, fresh: false };
    throw e;
  }
}

/** Public settings of the server (GET /api/config). */
export interface Config {
  tile_url: string | null;
  tile_attribution: string | null;
  idle_timeout_minutes: number;
  city_code: string;
  city_name: string;
}

export async function config(): Promise<Config | null> {
  try {
    return (
      await cached('config', async () => {
        let r: Response;
        try {
          r = await fetch('/api/config', { credentials: 'same-origin' });
        } catch {
          throw new ApiError(0, 'offline', '网络不可用');
        }
        if (!r.ok) throw new ApiError(r.status, `http_${r.status}`, '');
        return (await r.json()) as Config;
      })
    ).data;
  } catch {
    return null;
  }
}

/** Categories a grid worker may report, with group names and whether a photo is required. */
export interface Category {
  code: string;
  name: string;
  group: string;
  photoRequired: boolean;
}

export async function admission(area: string): Promise<{ data: Category[]; fresh: boolean }> {
  return cached('admission.' + area, async () => {
    const [items, groups] = await Promise.all([
      call(client.GET('/api/catalog/admission', { params: { query: { area } } })),
      call(client.GET('/api/catalog/categories', { params: { query: { area } } })).catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 403) return [] as Schemas['CategoryGroup'][];
        throw e;
      }),
    ]);
    const cats = new Map(groups.flatMap((g) => g.categories.map((c) => [c.code, { g: g.name, c }] as const)));
    return items.map((i) => ({
      code: i.code,
      name: i.name,
      group: cats.get(i.code)?.g ?? i.group_code,
      photoRequired: cats.get(i.code)?.c.photo_required ?? false,
    }));
  });
}

/** The code tables, from the server or the last copy kept (so collecting works offline);
 * loaded once per page load. Answers whether any are there. */
let dictsLoaded: Promise<boolean> | undefined;
export function loadDicts(): Promise<boolean> {
  dictsLoaded ??= cached('dicts', () => call(client.GET('/api/dicts'))).then(
    (r) => {
      setDicts(r.data);
      if (!r.fresh) dictsLoaded = undefined;
      return r.data.length > 0;
    },
    () => {
      dictsLoaded = undefined;
      return false;
    },
  );
  return dictsLoaded;
}
