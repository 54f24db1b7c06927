// The app's one queue (event reports, people, houses, organisations, visits) and what the screens show of it. The sender runs on start-up,
// when the browser comes back online, every 30 seconds while something waits, after each new
// report and on the 重试 button.
import { ref } from 'vue';
import { ReportQueue, isPerson, isRecord, isVisit, sendReport, type FlushResult, type QueuedItem, type SentReport } from './queue';
import { user } from './session';

export const online = ref(navigator.onLine);
export const items = ref<QueuedItem[]>([]);
export const sent = ref<SentReport[]>([]);

let unauthenticated: () => void = () => {};
export const queue = new ReportQueue({ send: sendReport, onUnauthenticated: () => unauthenticated() });

async function reload() {
  [items.value, sent.value] = await Promise.all([queue.list(), queue.sent()]);
}
queue.subscribe(() => void reload());

/** The screen that edits a queued item of any kind. */
export function editPath(i: QueuedItem): string {
  if (isPerson(i)) return `/person/${i.id}`;
  if (isRecord(i)) return `/${i.kind}/${i.id}`;
  if (isVisit(i)) return `/visit/${i.id}`;
  return `/report/${i.id}`;
}

/** Sends what waits for the signed-in user; a no-op when signed out or surely offline. */
export async function flushNow(): Promise<FlushResult | null> {
  const u = user.value;
  if (!u || !navigator.onLine) return null;
  return queue.flush(u.id);
}

/** Starts the triggers of the sender; `onAuth` runs when the server answers 401. */
export function startSender(onAuth: () => void) {
  unauthenticated = onAuth;
  void reload().then(flushNow);
  window.addEventListener('online', () => {
    online.value = true;
    void flushNow();
  });
  window.addEventListener('offline', () => (online.value = false));
  setInterval(() => {
    if (items.value.some((i) => i.state === 'pending')) void flushNow();
  }, 30_000);
}
