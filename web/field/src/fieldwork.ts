// The grid worker's duty (签到 / 签退 with a heartbeat every minute) and patrol (巡查): the open
// shift and patrol as the server last said (a copy is kept for offline use), the positions
// sampled while patrolling (kept in IndexedDB by `track.ts` and sent in batches), and the running
// figures of the patrol on this phone. One instance for the whole app, started in main.ts.
import { computed, ref, watch } from 'vue';
import { ApiError, call, client, type Schemas } from '@civgrid/shared';
import { cached } from './api';
import { t } from './i18n';
import { fixedAt, position, startGps } from './position';
import { isGridStaff, user } from './session';
import { online } from './store';
import { TrackBuffer, shouldSample, tallyPoint, type PatrolTally, type PendingFinish } from './track';

export type Shift = Schemas['ShiftView'];
export type Patrol = Schemas['PatrolView'];

/** The open shift (checked in), null when checked out. */
export const shift = ref<Shift | null>(null);
/** The open patrol, null when none. */
export const patrol = ref<Patrol | null>(null);
/** The last patrol finished on this phone (its figures as the server measured them). */
export const lastPatrol = ref<Patrol | null>(null);
/** Whether the status above came from the server (false: the last copy, offline). */
export const statusFresh = ref(false);
export const statusLoaded = ref(false);
/** Points sampled on this phone and not sent yet. */
export const pendingPoints = ref(0);
/** Patrols finished on this phone whose finish waits for the network. */
export const pendingFinishes = ref<PendingFinish[]>([]);
/** Why the last sending of track points stopped, if it did (shown under the patrol). */
export const trackProblem = ref('');

const TALLY_KEY = 'civgrid.field.patrolTally';
/** The running figures of the open patrol (kept across reloads). */
export const tally = ref<PatrolTally | null>(loadTally());
watch(tally, (v) => {
  if (v) localStorage.setItem(TALLY_KEY, JSON.stringify(v));
  else localStorage.removeItem(TALLY_KEY);
});

function loadTally(): PatrolTally | null {
  try {
    return JSON.parse(localStorage.getItem(TALLY_KEY) ?? 'null') as PatrolTally | null;
  } catch {
    return null;
  }
}

let unauthenticated: () => void = () => {};
export const track = new TrackBuffer({ onUnauthenticated: () => unauthenticated() });
track.subscribe(() => void refreshPending());

async function refreshPending() {
  const u = user.value;
  if (!u) return;
  [pendingPoints.value, pendingFinishes.value] = await Promise.all([track.pending(u.id), track.finishes(u.id)]);
}

export const checkedIn = computed(() => !!shift.value && !shift.value.ended_at);
export const patrolling = computed(() => !!patrol.value && !patrol.value.ended_at);

/** A fresh position to send with a check-in or heartbeat (none when the last fix is old). */
function here(): { lon?: number; lat?: number } {
  const p = position.value;
  if (!p || Date.now() - fixedAt.value > 120_000) return {};
  return { lon: p.lon, lat: p.lat };
}

function offlineError(message: string) {
  return new ApiError(0, 'offline', message);
}

/** Loads the open shift and patrol (the last copy when offline). */
export async function loadStatus(): Promise<void> {
  const u = user.value;
  if (!u || !isGridStaff()) return;
  try {
    const r = await cached('field.status.' + u.id, () => call(client.GET('/api/field/status')));
    if (user.value?.id !== u.id) return;
    shift.value = r.data.shift ?? null;
    setPatrol(r.data.patrol ?? null);
    statusFresh.value = r.fresh;
    statusLoaded.value = true;
  } catch {
    /* no copy and no network: shown as unknown */
  }
  sync();
}

/** Keeps the local copy of the status in step after a change made here. */
function keepStatus() {
  const u = user.value;
  if (!u) return;
  try {
    localStorage.setItem('civgrid.field.cache.field.status.' + u.id, JSON.stringify({ shift: shift.value, patrol: patrol.value }));
  } catch {
    /* only a convenience */
  }
}

function setPatrol(p: Patrol | null) {
  // A patrol finished here whose finish waits for the network is over for this phone.
  const over = (x: Patrol) => !!x.ended_at || pendingFinishes.value.some((f) => f.patrolId === x.id);
  patrol.value = p && !over(p) ? p : null;
  const open = patrol.value;
  if (open && tally.value?.id !== open.id) tally.value = { id: open.id, points: open.points, meters: open.meters, last: null };
  if (!open) tally.value = null;
}

/** 签到. Needs the network. */
export async function checkIn(): Promise<Shift> {
  if (!online.value) throw offlineError(t('work.checkInOffline'));
  const s = await call(client.POST('/api/field/check-in', { body: here() }));
  shift.value = s;
  statusLoaded.value = true;
  keepStatus();
  sync();
  return s;
}

/** 签退 (an open patrol is finished first). Needs the network. */
export async function checkOut(): Promise<Shift> {
  if (!online.value) throw offlineError(t('work.checkOutOffline'));
  if (patrolling.value) await finishPatrol('');
  const s = await call(client.POST('/api/field/check-out'));
  shift.value = null;
  keepStatus();
  sync();
  return s;
}

async function heartbeat() {
  if (!checkedIn.value || !navigator.onLine || !user.value) return;
  try {
    shift.value = await call(client.POST('/api/field/heartbeat', { body: here() }));
    keepStatus();
  } catch (e) {
    // Checked out elsewhere (or closed by the server): take the server's word.
    if (e instanceof ApiError && e.code === 'not_checked_in') await loadStatus();
  }
}

/** The id of a start whose answer never came: tapping again replays it instead of a second patrol. */
let startingId: string | null = null;

/** 开始巡查 (the server checks the worker in when they are not). Needs the network. */
export async function startPatrol(): Promise<Patrol> {
  if (!online.value) throw offlineError(t('work.patrolOffline'));
  startingId ??= crypto.randomUUID();
  const p = await call(client.POST('/api/field/patrols', { body: { id: startingId } }));
  startingId = null;
  lastPatrol.value = null;
  setPatrol(p);
  keepStatus();
  startGps();
  sync();
  void sample(true);
  if (!checkedIn.value) void loadStatus();
  return p;
}

/**
 * 结束巡查: the last position is sampled, the points are sent, then the finish. Without a network
 * the finish is kept and sent later (answers null then).
 */
export async function finishPatrol(note: string): Promise<Patrol | null> {
  const p = patrol.value;
  const u = user.value;
  if (!p || !u) return null;
  await sample(true);
  await flushTrack();
  // A send already running when the last point was kept did not take it: once more.
  if (pendingPoints.value && navigator.onLine) await flushTrack();
  let done: Patrol | null = null;
  if (pendingPoints.value === 0 && navigator.onLine) {
    try {
      done = await call(client.POST('/api/field/patrols/{id}/finish', { params: { path: { id: p.id } }, body: { note: note || null } }));
    } catch (e) {
      if (!(e instanceof ApiError) || !(e.offline || e.status >= 500)) throw e;
    }
  }
  if (!done) await track.finishLater(u.id, p.id, note);
  lastPatrol.value = done;
  setPatrol(null);
  keepStatus();
  sync();
  return done;
}

/** Takes the current position as a track point when it is due (or at once, `force`); resolves
 * when the point is kept. */
async function sample(force = false): Promise<void> {
  const u = user.value;
  const tl = tally.value;
  const pos = position.value;
  if (!u || !tl || !patrolling.value || !pos) return;
  const now = Date.now();
  // An old fix says nothing about where the worker is now.
  if (now - fixedAt.value > 60_000) return;
  if (!force && !shouldSample(tl, { accuracy: pos.accuracy, t: now })) return;
  if (force && tl.last && now - tl.last.t < 2_000) return;
  tally.value = tallyPoint(tl, { lon: pos.lon, lat: pos.lat, t: now });
  await track.add(u.id, { at: new Date(now).toISOString(), lon: pos.lon, lat: pos.lat, accuracy: pos.accuracy });
  await refreshPending();
  if (pendingPoints.value >= 10) void flushTrack();
}

let flushing: Promise<void> | null = null;

/** Sends the kept points and finishes now (a no-op offline or signed out); calls made while a
 * send runs share it. */
export function flushTrack(): Promise<void> {
  // Cleared in `finally`, which always runs after the assignment (even when nothing is sent).
  flushing ??= sendKept().finally(() => (flushing = null));
  return flushing;
}

async function sendKept() {
  const u = user.value;
  try {
    if (!u || !navigator.onLine) return;
    const r = await track.flush(u.id);
    trackProblem.value = r.stopped === 'server' ? t('work.trackServer') : '';
    // A finish kept offline went through: show what the server measured.
    const last = r.finished.at(-1);
    if (last) lastPatrol.value = last.body as Patrol;
  } finally {
    await refreshPending();
  }
}

let beat: ReturnType<typeof setInterval> | undefined;
let sampler: ReturnType<typeof setInterval> | undefined;

/** Starts or stops the timers to match the status. */
function sync() {
  if (checkedIn.value && !beat) beat = setInterval(() => void heartbeat(), 60_000);
  if (!checkedIn.value && beat) {
    clearInterval(beat);
    beat = undefined;
  }
  if (patrolling.value && !sampler) {
    startGps();
    sampler = setInterval(() => void sample(), 20_000);
    // Resumed (a reload, or the status just came): take the position there is now.
    void sample();
  }
  if (!patrolling.value && sampler) {
    clearInterval(sampler);
    sampler = undefined;
  }
}

/** Starts the duty and patrol machinery; `onAuth` runs when the server answers 401. */
export function startFieldwork(onAuth: () => void) {
  unauthenticated = onAuth;
  watch([position, fixedAt], () => void sample());
  watch(
    () => user.value?.id,
    (id) => {
      shift.value = patrol.value = lastPatrol.value = null;
      statusLoaded.value = false;
      if (!id) return void sync();
      void refreshPending()
        .then(flushTrack)
        .then(loadStatus);
    },
    { immediate: true },
  );
  // Points and finishes first, so the status read next already knows the finished patrols.
  window.addEventListener('online', () => void flushTrack().then(loadStatus));
  setInterval(() => {
    if (patrolling.value || pendingPoints.value || pendingFinishes.value.length) void flushTrack();
  }, 60_000);
}
