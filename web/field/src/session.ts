// The signed-in grid worker. The server keeps the session (HttpOnly cookie, ended after
// `idle_timeout_minutes` without use); the user is kept in localStorage so the app opens
// offline and queues reports. A 401 from any call clears it and returns to sign-in; the
// queued reports stay in IndexedDB and are sent after the next sign-in.
import { ref } from 'vue';
import { call, client, type Me } from '@civgrid/shared';

const KEY = 'civgrid.field.user';

function load(): Me | null {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? 'null') as Me | null;
  } catch {
    return null;
  }
}

export const user = ref<Me | null>(load());
/** Set when the server ended the session, so the sign-in page can say why. */
export const expired = ref(false);

function keep(u: Me | null) {
  user.value = u;
  if (u) localStorage.setItem(KEY, JSON.stringify(u));
  else localStorage.removeItem(KEY);
}

export async function login(username: string, password: string): Promise<Me> {
  const r = await call(client.POST('/api/auth/login', { body: { username, password } }));
  expired.value = false;
  keep(r.user);
  return r.user;
}

export async function logout() {
  try {
    await call(client.POST('/api/auth/logout'));
  } finally {
    keep(null);
  }
}

/** The server ended the session (401). */
export function sessionEnded() {
  if (user.value) expired.value = true;
  keep(null);
}

/** Refreshes the user from the server when online; a 401 ends the session via the handler. */
export async function refreshMe() {
  if (!navigator.onLine || !user.value) return;
  try {
    keep(await call(client.GET('/api/auth/me')));
  } catch {
    /* offline or 401 (handled by the unauthenticated handler) */
  }
}

/** The grid the worker is responsible for, if their area is a grid. */
export function ownGrid(): string | null {
  const u = user.value;
  return u && u.area_level === 'grid' ? u.area_code : null;
}

/** Grid staff (网格员, 网格长, 网格指导员): they check in, patrol and visit. */
export function isGridStaff(): boolean {
  return !!user.value?.roles.some((r) => ['grid_worker', 'grid_chief', 'grid_instructor'].includes(r.code));
}
