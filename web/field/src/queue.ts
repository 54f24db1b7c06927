// The offline queue: every report, every person, house or organisation collected or edited
// (人口采集, 房屋采集, 组织采集), and every visit (走访登记), is stored in IndexedDB first (with its key, chosen once, and a
// report's photos as Blobs) and sent from there. Plain TypeScript, no Vue, so it can be tested
// with fake-indexeddb.
//
// Four kinds of item share the queue, its order and its rules: `report` (an event report, sent
// as multipart to POST /api/events with the key as its idempotency key; items stored before
// kinds existed have no `kind` and are reports), `person` (a JSON request: POST /api/people
// with the key as the client-chosen person id, so a retry answers 200 with the stored person,
// or PUT /api/people/{id} with the version read), and `house` and `org` (JSON: POST /api/houses
// or /api/orgs, PUT …/{id} with the version read), and `visit` (走访: multipart to
// POST /api/field/visits with the key as the client-chosen visit id, so a retry is stored once).
//
// A new house or organisation carries the item's key as its id, so the server answers a create
// sent again after a lost answer with 200 and the stored record. Items queued before the server
// took such ids have none: when one of them is sent again and refused as a `duplicate` (the
// 房屋编号 or 统一社会信用代码 is taken), the queue looks the record up: one with that number, the
// same name and created since the item was queued is taken as this item's own first attempt,
// and the item counts as sent (`replayed`).
//
// Rules:
// - an item leaves the queue only when the server answered 200/201 (a replayed submission
//   counts as sent); it then goes to the short "sent" history;
// - no answer (offline), 401, 408, 429 and 5xx keep it pending and stop the pass (order is kept;
//   the next trigger retries); 401 also tells the app to sign in again;
// - any other 4xx marks it failed with the server's message, until the user edits, retries or
//   deletes it;
// - one pass at a time: concurrent flush calls share the running pass (and a Web Lock across
//   tabs where the browser has one), so an item is never sent twice at once; the idempotency
//   key covers a reload or a lost answer mid-send.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Schemas } from '@civgrid/shared';

export type ReportData = Omit<Schemas['NewEvent'], 'idempotency_key'>;
export type PersonData = Omit<Schemas['PersonInput'], 'id'>;
export type HouseData = Schemas['HouseInput'];
export type OrgData = Schemas['OrgInput'];
export type VisitData = Omit<Schemas['NewVisit'], 'id'>;
/** The request body of each record kind. */
export interface RecordBodies {
  house: HouseData;
  org: OrgData;
}
export type RecordKind = keyof RecordBodies;
export type ItemState = 'pending' | 'sending' | 'failed';

/** Why the last attempt did not go through: HTTP status (0 = no answer) and server message;
 * for a refused person, the server's per-field problems. */
export interface SendError {
  status: number;
  code: string;
  message: string;
  issues?: { field: string; code: string; message: string }[];
}

interface ItemBase {
  id: number;
  /** Idempotency key, chosen at enqueue time and never changed. */
  key: string;
  /** The user whose session sends it. */
  owner: string;
  /** What lists show: a category name, a person's name. */
  label: string;
  state: ItemState;
  error?: SendError;
  attempts: number;
  createdAt: number;
  updatedAt: number;
}

export interface QueuedReport extends ItemBase {
  kind?: 'report';
  data: ReportData;
  photos: Blob[];
}

/** A person to register (POST, the key is the new person's id) or to update (PUT, `target`). */
export interface QueuedPerson extends ItemBase {
  kind: 'person';
  method: 'POST' | 'PUT';
  /** Where it goes: /api/people or /api/people/{id}. */
  path: string;
  body: PersonData;
  /** The person it creates or edits. */
  personId: string;
}

/** A house or an organisation to register (POST) or to update (PUT, `target`). */
export interface QueuedRecordOf<K extends RecordKind> extends ItemBase {
  kind: K;
  method: 'POST' | 'PUT';
  /** Where it goes: /api/houses, /api/orgs, or …/{id}. */
  path: string;
  body: RecordBodies[K];
  /** The record an edit changes. */
  target?: string;
  /** An earlier attempt may have reached the server without its answer coming back. */
  uncertain?: boolean;
}
export type QueuedHouse = QueuedRecordOf<'house'>;
export type QueuedOrg = QueuedRecordOf<'org'>;
export type QueuedRecord = QueuedHouse | QueuedOrg;

/** A visit (走访) with its photos; the key is the visit's id. `subject` is what lists show. */
export interface QueuedVisit extends ItemBase {
  kind: 'visit';
  data: VisitData;
  photos: Blob[];
}

export type QueuedItem = QueuedReport | QueuedPerson | QueuedRecord | QueuedVisit;

export const isReport = (i: QueuedItem): i is QueuedReport => !i.kind || i.kind === 'report';
export const isPerson = (i: QueuedItem): i is QueuedPerson => i.kind === 'person';
export const isRecord = (i: QueuedItem): i is QueuedRecord => i.kind === 'house' || i.kind === 'org';
export const isVisit = (i: QueuedItem): i is QueuedVisit => i.kind === 'visit';

export interface SentReport {
  key: string;
  owner: string;
  /** Absent for reports (stored before kinds existed). */
  kind?: 'report' | 'person' | RecordKind | 'visit';
  label: string;
  description: string;
  eventId: string;
  caseNo: string;
  /** A person item: the person's id. */
  personId?: string;
  /** A house or organisation item: its id; a visit: the visit's id. */
  recordId?: string;
  replayed: boolean;
  createdAt: number;
  sentAt: number;
}

/** Sends one report; resolves with the HTTP answer, rejects when the request got no answer. */
export type Send = (item: QueuedReport) => Promise<{ status: number; body: unknown }>;
/** Sends one person item (a JSON request), likewise. */
export type SendPerson = (item: QueuedPerson) => Promise<{ status: number; body: unknown }>;
/** Sends one house or organisation item (a JSON request), likewise. */
export type SendRecord = (item: QueuedRecord) => Promise<{ status: number; body: unknown }>;
/** Sends one visit (multipart), likewise. */
export type SendVisit = (item: QueuedVisit) => Promise<{ status: number; body: unknown }>;
/**
 * Finds the record a create refused as `duplicate` may itself have stored on an earlier attempt
 * whose answer was lost: its id, or null when there is none (or it cannot be told).
 */
export type FindOwn = (item: QueuedRecord) => Promise<{ id: string; address?: string | null } | null>;

export interface FlushResult {
  sent: number;
  failed: number;
  /** Why the pass stopped early, if it did. */
  stopped?: 'offline' | 'unauthenticated' | 'server';
}

interface QueueDb extends DBSchema {
  reports: { key: number; value: QueuedItem; indexes: { key: string } };
  sent: { key: string; value: SentReport; indexes: { sentAt: number } };
}

export interface QueueOptions {
  send: Send;
  /** Sends person items (default: `sendPerson`, fetch with the session cookie). */
  sendPerson?: SendPerson;
  /** Sends house and organisation items (default: `sendRecord`). */
  sendRecord?: SendRecord;
  /** Sends visits (default: `sendVisit`). */
  sendVisit?: SendVisit;
  /** Recognises a retried create's own earlier success (default: `findOwn`). */
  findOwn?: FindOwn;
  dbName?: string;
  onUnauthenticated?: () => void;
  /** How many sent reports the history keeps. */
  keepSent?: number;
  newKey?: () => string;
}

const TRANSIENT = new Set([401, 408, 429]);
/** Attempts after which the server may have stored the request without the answer arriving. */
const mayHaveArrived = (status: number) => status === 0 || status === 408 || status >= 500;

export class ReportQueue {
  private db?: Promise<IDBPDatabase<QueueDb>>;
  private running?: Promise<FlushResult>;
  private again = false;
  private listeners = new Set<() => void>();

  constructor(private readonly opts: QueueOptions) {}

  private open(): Promise<IDBPDatabase<QueueDb>> {
    this.db ??= openDB<QueueDb>(this.opts.dbName ?? 'civgrid-field', 1, {
      upgrade(db) {
        const r = db.createObjectStore('reports', { keyPath: 'id', autoIncrement: true });
        r.createIndex('key', 'key', { unique: true });
        db.createObjectStore('sent', { keyPath: 'key' }).createIndex('sentAt', 'sentAt');
      },
    }).then(async (db) => {
      // A page that died mid-send left its item "sending": send it again (same key).
      const tx = db.transaction('reports', 'readwrite');
      for (const r of await tx.store.getAll()) {
        if (r.state === 'sending') await tx.store.put({ ...r, state: 'pending' });
      }
      await tx.done;
      return db;
    });
    return this.db;
  }

  /** Called after every change of the queue or the history. */
  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private changed() {
    for (const f of this.listeners) f();
  }

  private newKey(): string {
    return (this.opts.newKey ?? (() => crypto.randomUUID()))();
  }

  async enqueue(owner: string, data: ReportData, photos: Blob[], label: string): Promise<QueuedReport> {
    return this.add<QueuedReport>('report', owner, data, photos, label);
  }

  /** A new report or visit with its photos, under a fresh key. */
  private async add<T extends QueuedReport | QueuedVisit>(
    kind: T['kind'],
    owner: string,
    data: T['data'],
    photos: Blob[],
    label: string,
  ): Promise<T> {
    const db = await this.open();
    const now = Date.now();
    const item = {
      kind,
      key: this.newKey(),
      owner,
      data,
      photos,
      label,
      state: 'pending' as const,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    const id = await db.add('reports', item as unknown as QueuedItem);
    this.changed();
    return { ...item, id } as unknown as T;
  }

  /**
   * Queues a person: a new one (no `target`; the key becomes its id, so a retry is idempotent)
   * or an edit of `target` at the version read.
   */
  async enqueuePerson(
    owner: string,
    body: PersonData,
    label: string,
    target?: { id: string; version: number },
  ): Promise<QueuedPerson> {
    const db = await this.open();
    const now = Date.now();
    const key = this.newKey();
    const item = {
      kind: 'person' as const,
      key,
      owner,
      label,
      ...personRequest(key, body, target),
      state: 'pending' as const,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    const id = await db.add('reports', item as QueuedPerson);
    this.changed();
    return { ...item, id };
  }

  /**
   * Queues a house or an organisation: a new one (no `target`) or an edit of `target` at the
   * version read.
   */
  async enqueueRecord<K extends RecordKind>(
    kind: K,
    owner: string,
    body: RecordBodies[K],
    label: string,
    target?: { id: string; version: number },
  ): Promise<QueuedRecordOf<K>> {
    const db = await this.open();
    const now = Date.now();
    const base = `/api/${kind === 'house' ? 'houses' : 'orgs'}`;
    const key = this.newKey();
    const item = {
      kind,
      key,
      owner,
      label,
      // A new record carries the queue's key as its id: a retry of a create whose answer was
      // lost is answered 200 with the stored record instead of registering it twice.
      ...(target
        ? { method: 'PUT' as const, path: `${base}/${encodeURIComponent(target.id)}`, body: { ...body, version: target.version }, target: target.id }
        : { method: 'POST' as const, path: base, body: { ...body, id: key } }),
      state: 'pending' as const,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    } as Omit<QueuedRecordOf<K>, 'id'>;
    const id = await db.add('reports', item as unknown as QueuedRecord);
    this.changed();
    return { ...item, id } as QueuedRecordOf<K>;
  }

  /** Queues a visit (走访) with its photos; the key becomes the visit's id. */
  async enqueueVisit(owner: string, data: VisitData, photos: Blob[], label: string): Promise<QueuedVisit> {
    return this.add<QueuedVisit>('visit', owner, data, photos, label);
  }

  /** Queued items of every kind, oldest first. */
  async list(): Promise<QueuedItem[]> {
    return (await this.open()).getAll('reports');
  }

  async get(id: number): Promise<QueuedItem | undefined> {
    return (await this.open()).get('reports', id);
  }

  /** Sent reports, newest first. */
  async sent(): Promise<SentReport[]> {
    return (await (await this.open()).getAllFromIndex('sent', 'sentAt')).reverse();
  }

  /** Changes a waiting or failed report (same key); it becomes pending again. */
  async update(id: number, data: ReportData, photos: Blob[], label: string): Promise<void> {
    await this.change(id, (r) => {
      if (!isReport(r)) throw new Error('该项不是事件上报');
      return { ...r, data, photos, label, state: 'pending', error: undefined };
    });
  }

  /** Changes a waiting or failed person item (same key, same target); pending again. */
  async updatePerson(id: number, body: PersonData, label: string): Promise<void> {
    await this.change(id, (r) => {
      if (!isPerson(r)) throw new Error('该项不是人口信息');
      return { ...r, body, label, state: 'pending', error: undefined };
    });
  }

  /** Changes a waiting or failed house or organisation item (same key, same target; an edit
   * keeps the version it was read at unless `body` carries another); pending again. */
  async updateRecord<K extends RecordKind>(id: number, kind: K, body: RecordBodies[K], label: string): Promise<void> {
    await this.change(id, (r) => {
      if (r.kind !== kind) throw new Error(kind === 'house' ? '该项不是房屋信息' : '该项不是组织信息');
      const version = r.method === 'PUT' ? (body.version ?? r.body.version) : undefined;
      return { ...r, body: r.method === 'PUT' ? { ...body, version } : body, label, state: 'pending', error: undefined } as QueuedRecord;
    });
  }

  /** Changes a waiting or failed visit (same key); pending again. */
  async updateVisit(id: number, data: VisitData, photos: Blob[], label: string): Promise<void> {
    await this.change(id, (r) => {
      if (!isVisit(r)) throw new Error('该项不是走访登记');
      return { ...r, data, photos, label, state: 'pending', error: undefined };
    });
  }

  /** Puts a failed item back in line. */
  async retry(id: number): Promise<void> {
    await this.change(id, (r) => ({ ...r, state: 'pending', error: undefined }));
  }

  /** Deletes a waiting or failed item. */
  async remove(id: number): Promise<void> {
    const db = await this.open();
    const tx = db.transaction('reports', 'readwrite');
    const r = await tx.store.get(id);
    if (r?.state === 'sending') throw new Error('正在发送，请稍候');
    if (r) await tx.store.delete(id);
    await tx.done;
    this.changed();
  }

  private async change(id: number, f: (r: QueuedItem) => QueuedItem) {
    const db = await this.open();
    const tx = db.transaction('reports', 'readwrite');
    const r = await tx.store.get(id);
    if (!r) throw new Error('该上报已不在队列中');
    if (r.state === 'sending') throw new Error('正在发送，请稍候');
    await tx.store.put({ ...f(r), updatedAt: Date.now() });
    await tx.done;
    this.changed();
  }

  /**
   * Sends the pending items of `owner`, oldest first. Calls made while a pass runs share it
   * and make it go round once more, so items queued meanwhile are sent too.
   */
  flush(owner: string): Promise<FlushResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const total: FlushResult = { sent: 0, failed: 0 };
    const run = async () => {
      do {
        this.again = false;
        const r = await this.pass(owner);
        total.sent += r.sent;
        total.failed += r.failed;
        total.stopped = r.stopped;
        if (r.stopped) break;
      } while (this.again);
      return total;
    };
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    const exclusive = async (): Promise<FlushResult> => (locks ? await locks.request('civgrid-field-queue', run) : run());
    const running = exclusive().finally(() => {
      this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async pass(owner: string): Promise<FlushResult> {
    const db = await this.open();
    const res: FlushResult = { sent: 0, failed: 0 };
    const ids = (await db.getAll('reports'))
      .filter((r) => r.owner === owner && r.state === 'pending')
      .map((r) => r.id);
    for (const id of ids) {
      // Claim it: still there and still pending (the user may have deleted or it may be sent).
      const tx = db.transaction('reports', 'readwrite');
      const cur = await tx.store.get(id);
      if (!cur || cur.state !== 'pending') {
        await tx.done;
        continue;
      }
      const item: QueuedItem = { ...cur, state: 'sending', attempts: cur.attempts + 1, updatedAt: Date.now() };
      await tx.store.put(item);
      await tx.done;
      this.changed();

      let answer: { status: number; body: unknown } | undefined;
      try {
        answer = isPerson(item)
          ? await (this.opts.sendPerson ?? sendPerson)(item)
          : isRecord(item)
            ? await (this.opts.sendRecord ?? sendRecord)(item)
            : isVisit(item)
              ? await (this.opts.sendVisit ?? sendVisit)(item)
              : await this.opts.send(item);
      } catch {
        answer = undefined;
      }
      const status = answer?.status ?? 0;
      if (status === 200 || status === 201) {
        await this.done(db, item, answer?.body, status);
        res.sent++;
        continue;
      }
      const body = (answer?.body ?? {}) as { code?: string; message?: string; details?: { issues?: unknown } };
      const error: SendError = {
        status,
        code: body.code ?? (status ? `http_${status}` : 'offline'),
        message: body.message ?? '',
      };
      if (Array.isArray(body.details?.issues)) error.issues = body.details.issues as SendError['issues'];
      // A create refused as a duplicate after an attempt that may have arrived: its own record?
      if (isRecord(item) && item.method === 'POST' && item.uncertain && error.issues?.some((i) => i.code === 'duplicate')) {
        const own = await (this.opts.findOwn ?? findOwn)(item).catch(() => null);
        if (own) {
          await this.done(db, item, { address: item.body.address, ...own }, 200);
          res.sent++;
          continue;
        }
      }
      const permanent = status >= 400 && status < 500 && !TRANSIENT.has(status);
      const kept: QueuedItem = isRecord(item) && mayHaveArrived(status) ? { ...item, uncertain: true } : item;
      await db.put('reports', { ...kept, state: permanent ? 'failed' : 'pending', error, updatedAt: Date.now() });
      this.changed();
      if (permanent) {
        res.failed++;
        continue;
      }
      res.stopped = status === 0 ? 'offline' : status === 401 ? 'unauthenticated' : 'server';
      if (status === 401) this.opts.onUnauthenticated?.();
      break;
    }
    return res;
  }

  private async done(db: IDBPDatabase<QueueDb>, item: QueuedItem, body: unknown, status: number) {
    const tx = db.transaction(['reports', 'sent'], 'readwrite');
    await tx.objectStore('reports').delete(item.id);
    const sent = tx.objectStore('sent');
    if (isRecord(item)) {
      const b = (body ?? {}) as { id?: string; address?: string | null };
      await sent.put({
        key: item.key,
        owner: item.owner,
        kind: item.kind,
        label: item.label,
        description: b.address ?? item.body.address ?? '',
        eventId: '',
        caseNo: '',
        recordId: b.id ?? item.target,
        // A create answered 200 was recognised as an earlier attempt's record.
        replayed: item.method === 'POST' && status === 200,
        createdAt: item.createdAt,
        sentAt: Date.now(),
      });
    } else if (isVisit(item)) {
      const b = (body ?? {}) as { id?: string };
      await sent.put({
        key: item.key,
        owner: item.owner,
        kind: 'visit',
        label: item.label,
        description: item.data.note,
        eventId: '',
        caseNo: '',
        recordId: b.id ?? item.key,
        // The server answers a visit it already had with 200.
        replayed: status === 200,
        createdAt: item.createdAt,
        sentAt: Date.now(),
      });
    } else if (isPerson(item)) {
      const b = (body ?? {}) as { id?: string; address?: string | null };
      await sent.put({
        key: item.key,
        owner: item.owner,
        kind: 'person',
        label: item.label,
        description: b.address ?? item.body.address ?? '',
        eventId: '',
        caseNo: '',
        personId: b.id ?? item.personId,
        // A create answered 200 was a replay of one the server already had.
        replayed: item.method === 'POST' && status === 200,
        createdAt: item.createdAt,
        sentAt: Date.now(),
      });
    } else {
      const b = (body ?? {}) as { event?: { id?: string; case_no?: string }; replayed?: boolean };
      await sent.put({
        key: item.key,
        owner: item.owner,
        kind: 'report',
        label: item.label,
        description: item.data.description,
        eventId: b.event?.id ?? '',
        caseNo: b.event?.case_no ?? '',
        replayed: b.replayed === true,
        createdAt: item.createdAt,
        sentAt: Date.now(),
      });
    }
    // Keep only the newest entries of the history.
    const keep = this.opts.keepSent ?? 50;
    const keys = await sent.index('sentAt').getAllKeys();
    for (const k of keys.slice(0, Math.max(0, keys.length - keep))) await sent.delete(k);
    await tx.done;
    this.changed();
  }

  /** Closes the database (tests reopen it to check what survived). */
  async close(): Promise<void> {
    if (this.db) (await this.db).close();
    this.db = undefined;
  }
}

/** The real sender: the report as multipart (`data` JSON + `photo` parts) to POST /api/events. */
export const sendReport: Send = async (item) => {
  const form = new FormData();
  form.append('data', JSON.stringify({ ...item.data, idempotency_key: item.key }));
  item.photos.forEach((p, i) => form.append('photo', p, `photo${i + 1}.jpg`));
  const r = await fetch('/api/events', { method: 'POST', body: form, credentials: 'same-origin' });
  const body: unknown = await r.json().catch(() => ({}));
  return { status: r.status, body };
};

/** The real sender of visits: multipart (`data` JSON with the key as id + `photo` parts) to
 * POST /api/field/visits. */
export const sendVisit: SendVisit = async (item) => {
  const form = new FormData();
  form.append('data', JSON.stringify({ ...item.data, id: item.key }));
  item.photos.forEach((p, i) => form.append('photo', p, `photo${i + 1}.jpg`));
  const r = await fetch('/api/field/visits', { method: 'POST', body: form, credentials: 'same-origin' });
  const body: unknown = await r.json().catch(() => ({}));
  return { status: r.status, body };
};

/** The request of a person item: a create carries the key as the person's id. */
function personRequest(
  key: string,
  body: PersonData,
  target?: { id: string; version: number },
): Pick<QueuedPerson, 'method' | 'path' | 'body' | 'personId'> {
  if (target) {
    return { method: 'PUT', path: `/api/people/${encodeURIComponent(target.id)}`, body: { ...body, version: target.version }, personId: target.id };
  }
  return { method: 'POST', path: '/api/people', body, personId: key };
}

/** The real sender of person items: JSON to the item's path; a create sends its key as `id`. */
export const sendPerson: SendPerson = async (item) => {
  const body = item.method === 'POST' ? { ...item.body, id: item.key } : item.body;
  const r = await fetch(item.path, {
    method: item.method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const answer: unknown = await r.json().catch(() => ({}));
  return { status: r.status, body: answer };
};

/** The real sender of house and organisation items: JSON to the item's path. */
export const sendRecord: SendRecord = async (item) => {
  const r = await fetch(item.path, {
    method: item.method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(item.body),
    credentials: 'same-origin',
  });
  const answer: unknown = await r.json().catch(() => ({}));
  return { status: r.status, body: answer };
};

/** How far the phone's clock may be ahead of the server's, for `findOwn`. */
const CLOCK_SKEW_MS = 10 * 60_000;

/**
 * The real `FindOwn`: searches the number the server refused (统一社会信用代码 of an organisation,
 * 房屋编号 of a house) and takes the record with that number and the item's name that was
 * created after the item was queued. Anything else (no number, another name, an older record)
 * is not recognised and the item fails with the server's message.
 */
export const findOwn: FindOwn = async (item) => {
  const b = item.body as { uscc?: string | null; house_no?: string | null; name?: string | null };
  const no = (item.kind === 'org' ? b.uscc : b.house_no)?.trim().toUpperCase();
  if (!no) return null;
  const r = await fetch(`${item.path}?q=${encodeURIComponent(no)}&per_page=50`, { credentials: 'same-origin' });
  if (!r.ok) return null;
  const page = (await r.json()) as {
    items?: { id: string; uscc?: string | null; house_no?: string; name?: string | null; address?: string | null; created_at: string }[];
  };
  const since = item.createdAt - CLOCK_SKEW_MS;
  const name = (b.name ?? '').trim();
  const hit = (page.items ?? []).find(
    (x) =>
      (item.kind === 'org' ? x.uscc : x.house_no)?.toUpperCase() === no &&
      (x.name ?? '').trim() === name &&
      Date.parse(x.created_at) >= since,
  );
  return hit ? { id: hit.id, address: hit.address } : null;
};
