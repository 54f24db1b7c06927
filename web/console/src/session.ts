// The signed-in user and what the role allows. Kept free of Element Plus so the sign-in page
// stays small.
import { computed, ref } from 'vue';
import { ApiError, call, client, type Me } from '@civgrid/shared';

export const me = ref<Me | null>(null);
let checked = false;

/** The current user, asking the server once per page load. */
export async function ensureSession(): Promise<Me | null> {
  if (!checked) {
    try {
      me.value = await call(client.GET('/api/auth/me'));
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      me.value = null;
    }
    checked = true;
  }
  return me.value;
}

export function signedIn(u: Me) {
  me.value = u;
  checked = true;
}

export function signedOut() {
  me.value = null;
  checked = true;
}

export async function logout() {
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
