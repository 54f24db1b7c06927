// Base data helpers of the console: the code tables (loaded once per session), what the
// signed-in role may do with people, houses and organisations, and file downloads (template,
// export).
import { ApiError, call, client } from '@civgrid/shared';
import { setDicts } from '@civgrid/shared/src/dicts';
import { hasRole } from '../session';

export { dictLabel, dictOptions, dicts } from '@civgrid/shared/src/dicts';

let loading: Promise<void> | undefined;

/** Loads the code tables once per page load (a failure lets the next call try again). */
export function loadDicts(): Promise<void> {
  loading ??= call(client.GET('/api/dicts')).then(setDicts, (e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}

const GRID = ['grid_worker', 'grid_chief', 'grid_instructor'];
/** Collect and edit people (grid staff, centre operators, admins). */
export const canEditPeople = () => hasRole(...GRID, 'centre_operator', 'admin');
/** Import, export, and show ID numbers and phones in clear. */
export const canImport = () => hasRole('centre_operator', 'admin');
export const canUnmask = () => hasRole('centre_operator', 'admin');
/** Special-population fields. */
export const canSeeSpecial = () => hasRole(...GRID, 'centre_operator', 'admin');

/** The organisation data set's other fields the console edits (kept in `extra`; other keys
 * stored there are kept as they are). */
export const ORG_EXTRA = ['security_head', 'party_org'] as const;

/** Downloads a file the API answers (template, export) under the server's file name. */
export async function download(path: string, fallbackName: string): Promise<void> {
  let r: Response;
  try {
    r = await fetch(path, { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'offline', '网络不可用，请检查网络连接');
  }
  if (!r.ok) {
    const b = (await r.json().catch(() => ({}))) as { code?: string; message?: string; details?: Record<string, unknown> };
    throw new ApiError(r.status, b.code ?? `http_${r.status}`, b.message ?? `请求失败（${r.status}）`, b.details ?? {});
  }
  const cd = r.headers.get('content-disposition') ?? '';
  const m = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
