// The unread-notice count in the header; the inbox refreshes it after marking notices read.
import { ref } from 'vue';
import { call, client } from '@civgrid/shared';

export const unread = ref(0);

export async function refreshUnread() {
  try {
    unread.value = (await call(client.GET('/api/notifications/unread-count'))).unread;
  } catch {
    /* shown again at the next poll */
  }
}
