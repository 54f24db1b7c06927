// The patrol track kept on the phone: every sampled position is stored in IndexedDB first (with
// the time it was taken) and sent from there in batches to POST /api/field/track, so points taken
// without a network reach the server later with their own timestamps. A patrol finished while
// offline is kept too (its note) and sent after its points. Plain TypeScript, no Vue, so it can
// be tested with fake-indexeddb.
//
// Rules:
// - points leave the store only when the server answered 200/201 (it ignores duplicates, so a
//   batch sent again after a lost answer does no harm);
// - no answer, 401, 408, 429 and 5xx keep everything and stop the pass (the next trigger
//   retries); 401 also tells the app to sign in again;
// - any other 4xx refuses something in the batch: the batch is split and sent again in halves,
//   so only the points the server refuses on their own are dropped (and counted);
// - a kept finish is sent after all points of its owner; 200 removes it, as do 404 and 409 (the
//   patrol is gone or already finished: nothing left to do);
// - one pass at a time: concurrent flush calls share the running pass.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

/** One sampled position as the server takes it (`at`: RFC 3339, the time of the fix). */
export interface TrackPoint {
  at: string;
  lon: number;
  lat: number;
  accuracy?: number;
}

interface StoredPoint extends TrackPoint {
  seq?: number;
  owner: string;
}

/** A patrol finished while its points or the finish itself could not be sent yet. */
export interface PendingFinish {
  patrolId: string;
  owner: string;
  note: string;
  /** When the worker finished it (ms). */
  at: number;
}

export type Answer = { status: number; body: unknown };
export type SendPoints = (points: TrackPoint[]) => Promise<Answer>;
/** Sends a kept finish; `endedAt` (ms) is when the worker finished, so the patrol ends then. */
export type SendFinish = (patrolId: string, note: string, endedAt: number) => Promise<Answer>;

export interface TrackFlush {
  /** Points the server accepted (or already had). */
  sent: number;
  /** Points the server refused on their own (dropped). */
  dropped: number;
  /** Finishes sent, with the server's answer (the patrol). */
  finished: { patrolId: string; body: unknown }[];
  stopped?: 'offline' | 'unauthenticated' | 'server';
}

interface TrackDb extends DBSchema {
  points: { key: number; value: StoredPoint; indexes: { owner: string } };
  finishes: { key: string; value: PendingFinish };
}

export interface TrackOptions {
  sendPoints?: SendPoints;
  sendFinish?: SendFinish;
  dbName?: string;
  /** Points per request (default 100). */
  batch?: number;
  onUnauthenticated?: () => void;
}

const TRANSIENT = new Set([401, 408, 429]);
const isTransient = (status: number) => status === 0 || status >= 500 || TRANSIENT.has(status);

export class TrackBuffer {
  private db?: Promise<IDBPDatabase<TrackDb>>;
  private running?: Promise<TrackFlush>;
  private again = false;
  private listeners = new Set<() => void>();

  constructor(private readonly opts: TrackOptions = {}) {}

  private open(): Promise<IDBPDatabase<TrackDb>> {
    this.db ??= openDB<TrackDb>(this.opts.dbName ?? 'civgrid-field-track', 1, {
      upgrade(db) {
        db.createObjectStore('points', { keyPath: 'seq', autoIncrement: true }).createIndex('owner', 'owner');
        db.createObjectStore('finishes', { keyPath: 'patrolId' });
      },
    });
    return this.db;
  }

  /** Called after every change of the stored points or finishes. */
  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private changed() {
    for (const f of this.listeners) f();
  }

  /** Keeps one sampled point of `owner`. */
  async add(owner: string, p: TrackPoint): Promise<void> {
    const db = await this.open();
    const point: StoredPoint = { owner, at: p.at, lon: p.lon, lat: p.lat };
    if (p.accuracy !== undefined) point.accuracy = p.accuracy;
    await db.add('points', point);
    this.changed();
  }

  /** The points of `owner` not sent yet, oldest first. */
  async points(owner: string): Promise<TrackPoint[]> {
    const db = await this.open();
    return (await db.getAllFromIndex('points', 'owner', owner)).map(plain);
  }

  /** How many points of `owner` wait to be sent. */
  async pending(owner: string): Promise<number> {
    return (await this.open()).countFromIndex('points', 'owner', owner);
  }

  /** Keeps the finish of a patrol to be sent after its points. */
  async finishLater(owner: string, patrolId: string, note: string, at = Date.now()): Promise<void> {
    await (await this.open()).put('finishes', { patrolId, owner, note, at });
    this.changed();
  }

  /** Finishes of `owner` not sent yet. */
  async finishes(owner: string): Promise<PendingFinish[]> {
    return (await (await this.open()).getAll('finishes')).filter((f) => f.owner === owner);
  }

  /**
   * Sends what waits for `owner`: points oldest first in batches, then kept finishes. Calls made
   * while a pass runs share it and make it go round once more.
   */
  flush(owner: string): Promise<TrackFlush> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const total: TrackFlush = { sent: 0, dropped: 0, finished: [] };
    const run = async () => {
      do {
        this.again = false;
        const r = await this.pass(owner);
        total.sent += r.sent;
        total.dropped += r.dropped;
        total.finished.push(...r.finished);
        total.stopped = r.stopped;
        if (r.stopped) break;
      } while (this.again);
      return total;
    };
    const running = run().finally(() => {
      this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async pass(owner: string): Promise<TrackFlush> {
    const db = await this.open();
    const res: TrackFlush = { sent: 0, dropped: 0, finished: [] };
    const size = Math.max(1, this.opts.batch ?? 100);
    const stored = await db.getAllFromIndex('points', 'owner', owner);
    for (let i = 0; i < stored.length; i += size) {
      const stop = await this.sendChunk(db, stored.slice(i, i + size), res);
      if (stop) {
        res.stopped = stop;
        if (stop === 'unauthenticated') this.opts.onUnauthenticated?.();
        return res;
      }
    }
    for (const f of await this.finishes(owner)) {
      let answer: Answer | undefined;
      try {
        answer = await (this.opts.sendFinish ?? sendFinish)(f.patrolId, f.note, f.at);
      } catch {
        answer = undefined;
      }
      const status = answer?.status ?? 0;
      if (status === 200 || status === 201 || status === 404 || status === 409) {
        await db.delete('finishes', f.patrolId);
        this.changed();
        if (status < 300) res.finished.push({ patrolId: f.patrolId, body: answer?.body });
        continue;
      }
      if (isTransient(status)) {
        res.stopped = status === 0 ? 'offline' : status === 401 ? 'unauthenticated' : 'server';
        if (status === 401) this.opts.onUnauthenticated?.();
        return res;
      }
      // Refused for good (e.g. someone else's patrol): nothing the phone can change.
      await db.delete('finishes', f.patrolId);
      this.changed();
    }
    return res;
  }

  /** Sends `chunk`; on a refusal splits it so only points refused on their own are dropped.
   * Answers why the pass must stop, if it must. */
  private async sendChunk(db: IDBPDatabase<TrackDb>, chunk: StoredPoint[], res: TrackFlush): Promise<TrackFlush['stopped']> {
    let answer: Answer | undefined;
    try {
      answer = await (this.opts.sendPoints ?? sendPoints)(chunk.map(plain));
    } catch {
      answer = undefined;
    }
    const status = answer?.status ?? 0;
    if (status === 200 || status === 201) {
      await this.drop(db, chunk);
      res.sent += chunk.length;
      return undefined;
    }
    if (isTransient(status)) return status === 0 ? 'offline' : status === 401 ? 'unauthenticated' : 'server';
    if (chunk.length === 1) {
      await this.drop(db, chunk);
      res.dropped++;
      return undefined;
    }
    const half = Math.ceil(chunk.length / 2);
    return (await this.sendChunk(db, chunk.slice(0, half), res)) ?? (await this.sendChunk(db, chunk.slice(half), res));
  }

  private async drop(db: IDBPDatabase<TrackDb>, chunk: StoredPoint[]) {
    const tx = db.transaction('points', 'readwrite');
    for (const p of chunk) if (p.seq !== undefined) await tx.store.delete(p.seq);
    await tx.done;
    this.changed();
  }

  /** Closes the database (tests reopen it to check what survived). */
  async close(): Promise<void> {
    if (this.db) (await this.db).close();
    this.db = undefined;
  }
}

function plain(p: StoredPoint): TrackPoint {
  const out: TrackPoint = { at: p.at, lon: p.lon, lat: p.lat };
  if (p.accuracy !== undefined) out.accuracy = p.accuracy;
  return out;
}

async function postJson(path: string, body: unknown): Promise<Answer> {
  const r = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}

/** The real sender of points: POST /api/field/track. */
export const sendPoints: SendPoints = (points) => postJson('/api/field/track', { points });

/** The real sender of a kept finish: POST /api/field/patrols/{id}/finish. */
export const sendFinish: SendFinish = (id, note, endedAt) =>
  postJson(`/api/field/patrols/${encodeURIComponent(id)}/finish`, {
    ...(note ? { note } : {}),
    ended_at: new Date(endedAt).toISOString(),
  });

/** Metres between two positions on the earth (haversine). */
export function metres(a: { lon: number; lat: number }, b: { lon: number; lat: number }): number {
  const R = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The running figures of a patrol on this phone. */
export interface PatrolTally {
  id: string;
  points: number;
  meters: number;
  last: { lon: number; lat: number; t: number } | null;
}

/** Minimum time between two samples (ms). */
export const SAMPLE_MS = 15_000;

/**
 * Whether a fix becomes a track point: it must be newer than the last point by `SAMPLE_MS`, and a
 * poor fix (accuracy worse than 200 m) is skipped unless nothing better came for a minute.
 */
export function shouldSample(tally: PatrolTally, fix: { accuracy: number; t: number }): boolean {
  const last = tally.last;
  if (last && fix.t - last.t < SAMPLE_MS) return false;
  if (fix.accuracy > 200 && last && fix.t - last.t < 60_000) return false;
  return true;
}

/**
 * Adds a sampled point to the running figures. A jump that would need more than 50 m/s (a GPS
 * glitch) counts the point but not the distance.
 */
export function tallyPoint(tally: PatrolTally, p: { lon: number; lat: number; t: number }): PatrolTally {
  let meters = tally.meters;
  if (tally.last) {
    const d = metres(tally.last, p);
    const secs = Math.max(1, (p.t - tally.last.t) / 1000);
    if (d / secs <= 50) meters += d;
  }
  return { id: tally.id, points: tally.points + 1, meters, last: { lon: p.lon, lat: p.lat, t: p.t } };
}
