// The signed-in user and what the role allows. Kept free of Element Plus so the sign-in page
// stays small.
import { computed, ref } from 'vue';
import { ApiError, call, client, type Me } from '@civgrid/shared';

export const me = ref<Me | null>(null);
let checked = false;

/** Marks that this browser holds a signed-in session, so a later 401 can be told apart from a
 * first visit. */
const FLAG = 'civgrid.console.signedIn';
/** Set when a session this browser had signed in ended (a 401), so the sign-in page says why. */
export const sessionEnded = ref(false);

/** The current user, asking the server once per page load. */
export async function ensureSession(): Promise<Me | null> {
  if (!checked) {
    try {
      me.value = await call(client.GET('/api/auth/me'));
      localStorage.setItem(FLAG, '1');
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      signedOut();
    }
    checked = true;
  }
  return me.value;
}

export function signedIn(u: Me) {
  me.value = u;
  checked = true;
  sessionEnded.value = false;
  localStorage.setItem(FLAG, '1');
}

/** The server answered 401: the session is over (or there never was one). */
export function signedOut() {
  if (localStorage.getItem(FLAG)) sessionEnded.value = true;
  localStorage.removeItem(FLAG);
  me.value = null;
  checked = true;
}

export async function logout() {
  localStorage.removeItem(FLAG);
  try {
    await call(client.POST('/api/auth/logout'));
  } catch {
    /* the session is over either way */
  }
  signedOut();
}

export const roleCodes = computed(() => new Set((me.value?.roles ?? []).map((r) => r.code)));

export function hasRole(...roles: string[]): boolean {
  return roles.some((r) => roleCodes.value.has(r));
}

/** A centre operator at a township (approves grid boundaries), or an administrator. */
export const isTownshipApprover = computed(
  () => hasRole('admin') || (hasRole('centre_operator') && me.value?.area_level === 'township'),
);
