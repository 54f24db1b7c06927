// The house and organisation kinds of the offline queue (房屋采集, 组织采集): same rules as
// reports and people — removed only on 200/201, kept on no answer/401/408/429/5xx, failed with
// the server's message and per-field problems on other 4xx, editable and deletable. They have no
// client-chosen id: a create resent after a lost answer and refused as a `duplicate` is
// recognised as its own earlier success when the number, the name and the time agree; a house
// without a number cannot be recognised (the documented limitation).
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ReportQueue,
  findOwn,
  sendRecord,
  type FindOwn,
  type HouseData,
  type OrgData,
  type QueuedHouse,
  type QueuedRecord,
  type Send,
  type SendPerson,
  type SendRecord,
} from './queue';

let n = 0;
const dbName = () => `records-test-${++n}`;
const house = (extra: Partial<HouseData> = {}): HouseData => ({
  address: '东昌府区古楼街道古城社区运河路66号',
  is_rental: true,
  owner_name: '王建国',
  owner_id_no: '371502199001011234',
  ...extra,
});
const org = (extra: Partial<OrgData> = {}): OrgData => ({
  kind: 'nonpublic',
  name: '聊城鑫华商贸有限公司',
  uscc: '91350100M000100Y43',
  address: '东昌府区古楼街道古城社区运河路66号',
  ...extra,
});
const noReports: Send = async () => {
  throw new Error('no report expected');
};
const noPeople: SendPerson = async () => {
  throw new Error('no person expected');
};

type Stored = { id: string; kind: 'house' | 'org'; no: string | null; name: string | null; version: number; created_at: string; body: HouseData | OrgData };

/** A fake houses/orgs API: ids chosen by the server, 房屋编号 and 信用代码 unique (422 duplicate). */
/** A fake server of houses and organisations; `ids: false` ignores client-chosen ids (an
 * item queued before the server took them is recognised by `findOwn` instead). */
function recordsServer({ ids = true } = {}) {
  const rows = new Map<string, Stored>();
  const calls: { method: string; path: string; body: Record<string, unknown> }[] = [];
  let seq = 0;
  const duplicate = (field: string) => ({
    status: 422,
    body: {
      code: 'validation_failed',
      message: field === 'uscc' ? '该统一社会信用代码已登记' : '房屋编号已存在',
      details: { issues: [{ field, code: 'duplicate', message: field === 'uscc' ? '该统一社会信用代码已登记' : '房屋编号已存在' }] },
    },
  });
  /** Client-chosen id → the stored record's id (the server answers a known one with 200). */
  const chosen = new Map<string, string>();
  const send: SendRecord = async (item) => {
    const body = item.body as Record<string, unknown>;
    calls.push({ method: item.method, path: item.path, body });
    const no = ((item.kind === 'org' ? body.uscc : body.house_no) as string | null | undefined) ?? null;
    const known = ids && typeof body.id === 'string' ? chosen.get(body.id) : undefined;
    if (item.method === 'POST' && known) {
      const r = rows.get(known)!;
      return { status: 200, body: { id: r.id, address: `山东省聊城市${body.address as string}`, version: r.version, created_at: r.created_at } };
    }
    if (item.method === 'POST') {
      if (no && [...rows.values()].some((r) => r.kind === item.kind && r.no === no)) return duplicate(item.kind === 'org' ? 'uscc' : 'house_no');
      const id = `${item.kind}-${++seq}`;
      const created_at = new Date().toISOString();
      rows.set(id, { id, kind: item.kind, no: no ?? (item.kind === 'house' ? `H${seq}` : null), name: (body.name as string) ?? null, version: 1, created_at, body: item.body });
      if (typeof body.id === 'string') chosen.set(body.id, id);
      return { status: 201, body: { id, address: `山东省聊城市${body.address as string}`, version: 1, created_at } };
    }
    const cur = rows.get(item.target!);
    if (!cur) return { status: 404, body: { code: 'record_not_found', message: '记录不存在' } };
    if (cur.version !== body.version) return { status: 409, body: { code: 'conflict', message: '数据已被他人修改，请刷新后重试' } };
    rows.set(cur.id, { ...cur, version: cur.version + 1, body: item.body, name: (body.name as string) ?? cur.name });
    return { status: 200, body: { id: cur.id, version: cur.version + 1 } };
  };
  /** Recognises the item's own record the way the real `findOwn` does (number, name, time). */
  const find: FindOwn = async (item) => {
    const b = item.body as { uscc?: string | null; house_no?: string | null; name?: string | null };
    const no = item.kind === 'org' ? b.uscc : b.house_no;
    if (!no) return null;
    const hit = [...rows.values()].find(
      (r) => r.kind === item.kind && r.no === no && r.name === (b.name ?? null) && Date.parse(r.created_at) >= item.createdAt - 600_000,
    );
    return hit ? { id: hit.id } : null;
  };
  return { rows, calls, send, find };
}

/** A sender whose first `lost` answers are lost after the server has acted on the request. */
function losing(send: SendRecord, lost: number): SendRecord {
  let left = lost;
  return async (item) => {
    const r = await send(item);
    if (left-- > 0) throw new TypeError('Failed to fetch');
    return r;
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('ReportQueue: houses and organisations', () => {
  it('sends a new house and a new organisation once and records them as sent', async () => {
    const s = recordsServer();
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendPerson: noPeople, sendRecord: s.send, findOwn: s.find });
    const h = await q.enqueueRecord('house', 'u1', house(), '运河路66号');
    const o = await q.enqueueRecord('org', 'u1', org(), '聊城鑫华商贸有限公司');
    expect(h).toMatchObject({ kind: 'house', method: 'POST', path: '/api/houses', state: 'pending' });
    expect(o).toMatchObject({ kind: 'org', method: 'POST', path: '/api/orgs' });
    expect(await q.flush('u1')).toEqual({ sent: 2, failed: 0 });
    expect(await q.list()).toEqual([]);
    expect(s.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /api/houses', 'POST /api/orgs']);
    // Each new record carries its item's key as its id.
    expect(s.calls.map((c) => c.body.id)).toEqual([h.key, o.key]);
    const sent = await q.sent();
    expect(sent.map((x) => x.kind).sort()).toEqual(['house', 'org']);
    expect(sent.find((x) => x.kind === 'house')).toMatchObject({ key: h.key, recordId: 'house-1', replayed: false, description: expect.stringContaining('运河路66号') });
    expect(sent.find((x) => x.kind === 'org')).toMatchObject({ key: o.key, recordId: 'org-2', label: '聊城鑫华商贸有限公司' });
  });

  it('keeps an item on no answer, 5xx, 408, 429 and 401, and sends it later', async () => {
    for (const status of [0, 500, 503, 408, 429, 401]) {
      let unauth = 0;
      let up = false;
      const s = recordsServer();
      const q = new ReportQueue({
        dbName: dbName(),
        send: noReports,
        sendRecord: async (item) => {
          if (up) return s.send(item);
          if (status === 0) throw new TypeError('Failed to fetch');
          return { status, body: { code: 'x', message: '服务器忙' } };
        },
        findOwn: s.find,
        onUnauthenticated: () => unauth++,
      });
      const a = await q.enqueueRecord('org', 'u1', org(), 'x');
      const r = await q.flush('u1');
      expect(r.stopped).toBe(status === 0 ? 'offline' : status === 401 ? 'unauthenticated' : 'server');
      const [kept] = (await q.list()) as QueuedRecord[];
      expect(kept).toMatchObject({ key: a.key, state: 'pending', attempts: 1 });
      expect(kept.error?.status).toBe(status);
      // Only an attempt that may have reached the server makes a later duplicate worth checking.
      expect(!!kept.uncertain).toBe(status === 0 || status === 408 || status >= 500);
      expect(unauth).toBe(status === 401 ? 1 : 0);
      up = true;
      expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
      expect(s.rows.size).toBe(1);
    }
  });

  it('recognises a resent organisation refused as a duplicate as its own earlier success', async () => {
    const s = recordsServer({ ids: false });
    const find = vi.fn(s.find);
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendRecord: losing(s.send, 1), findOwn: find });
    const a = await q.enqueueRecord('org', 'u1', org(), '聊城鑫华商贸有限公司');
    // Stored, but the answer never came: the item stays.
    expect(await q.flush('u1')).toMatchObject({ sent: 0, stopped: 'offline' });
    expect(s.rows.size).toBe(1);
    // Sent again: 422 duplicate, and the record found is this item's own.
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(find).toHaveBeenCalledTimes(1);
    expect(await q.list()).toEqual([]);
    expect(s.rows.size).toBe(1);
    expect((await q.sent())[0]).toMatchObject({ key: a.key, kind: 'org', recordId: 'org-1', replayed: true });
  });

  it('recognises a resent house with a 房屋编号 likewise', async () => {
    const s = recordsServer({ ids: false });
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendRecord: losing(s.send, 1), findOwn: s.find });
    await q.enqueueRecord('house', 'u1', house({ house_no: 'GL0012', name: '运河小区3号楼' }), 'GL0012');
    await q.flush('u1');
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(s.rows.size).toBe(1);
    expect((await q.sent())[0]).toMatchObject({ recordId: 'house-1', replayed: true });
  });

  it('fails a duplicate on a first attempt, and one whose record is not its own, with the field problem', async () => {
    const s = recordsServer();
    const find = vi.fn(s.find);
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendRecord: s.send, findOwn: find });
    await q.enqueueRecord('org', 'u1', org({ name: '先登记的公司' }), '先登记的公司');
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    // Someone else's code: refused at once, nothing looked up.
    const b = await q.enqueueRecord('org', 'u1', org({ name: '后来的公司' }), '后来的公司');
    expect(await q.flush('u1')).toEqual({ sent: 0, failed: 1 });
    expect(find).not.toHaveBeenCalled();
    const [failed] = await q.list();
    expect(failed).toMatchObject({ id: b.id, state: 'failed' });
    expect(failed.error).toMatchObject({ status: 422, code: 'validation_failed', issues: [{ field: 'uscc', code: 'duplicate' }] });
    // Resent after an attempt that got no answer (and never arrived): looked up, another name, failed.
    let first = true;
    const q2 = new ReportQueue({
      dbName: dbName(),
      send: noReports,
      sendRecord: async (item) => {
        if (first) {
          first = false;
          throw new TypeError('Failed to fetch');
        }
        return s.send(item);
      },
      findOwn: find,
    });
    const d = await q2.enqueueRecord('org', 'u1', org({ name: '第三家公司' }), '第三家公司');
    await q2.flush('u1');
    expect(await q2.flush('u1')).toEqual({ sent: 0, failed: 1 });
    expect(find).toHaveBeenCalledTimes(1);
    expect((await q2.get(d.id))?.error?.issues?.[0]).toMatchObject({ field: 'uscc', code: 'duplicate' });
  });

  it('registers a house without a number once when the first answer is lost: its id makes the retry a replay', async () => {
    const s = recordsServer();
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendRecord: losing(s.send, 1), findOwn: s.find });
    await q.enqueueRecord('house', 'u1', house({ house_no: null }), '运河路66号');
    await q.flush('u1');
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(s.rows.size).toBe(1);
    expect((await q.sent())[0]).toMatchObject({ kind: 'house', recordId: 'house-1', replayed: true });
  });

  it('corrects a refused item in place (same key) and sends it; refuses to edit it as another kind', async () => {
    const s = recordsServer();
    const q = new ReportQueue({
      dbName: dbName(),
      send: noReports,
      sendRecord: async (item) =>
        (item.body as HouseData).owner_id_no === 'bad'
          ? {
              status: 422,
              body: {
                code: 'validation_failed',
                message: '身份证号校验位错误，应为 5',
                details: { issues: [{ field: 'owner_id_no', code: 'id_format', message: '身份证号校验位错误，应为 5' }] },
              },
            }
          : s.send(item),
      findOwn: s.find,
    });
    const bad = await q.enqueueRecord('house', 'u1', house({ owner_id_no: 'bad' }), '运河路66号');
    expect(await q.flush('u1')).toEqual({ sent: 0, failed: 1 });
    expect((await q.get(bad.id))?.error?.issues).toEqual([{ field: 'owner_id_no', code: 'id_format', message: '身份证号校验位错误，应为 5' }]);
    await expect(q.updateRecord(bad.id, 'org', org(), 'x')).rejects.toThrow('该项不是组织信息');
    await expect(q.update(bad.id, { category: '0602', description: 'x' }, [], 'x')).rejects.toThrow();
    await expect(q.updatePerson(bad.id, { kind: 'registered', name: 'x' }, 'x')).rejects.toThrow();
    await q.updateRecord(bad.id, 'house', house({ owner_id_no: '371502199001031236' }), '运河路66号');
    const fixed = (await q.get(bad.id)) as QueuedRecord;
    expect(fixed).toMatchObject({ key: bad.key, kind: 'house', method: 'POST', state: 'pending' });
    expect(fixed.error).toBeUndefined();
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect([...s.rows.values()][0].body).toMatchObject({ owner_id_no: '371502199001031236' });
  });

  it('queues an edit as a PUT with the version read; a stale version fails with the conflict', async () => {
    const s = recordsServer();
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendRecord: s.send, findOwn: s.find });
    await q.enqueueRecord('org', 'u1', org(), 'x');
    await q.flush('u1');
    const e = await q.enqueueRecord('org', 'u1', org({ name: '改名后的公司' }), '改名后的公司', { id: 'org-1', version: 1 });
    expect(e).toMatchObject({ method: 'PUT', path: '/api/orgs/org-1', target: 'org-1', body: { version: 1 } });
    // A correction keeps the version read.
    await q.updateRecord(e.id, 'org', org({ name: '改名后的公司', phone: '0635-8221234' }), '改名后的公司');
    expect(((await q.get(e.id)) as QueuedRecord).body.version).toBe(1);
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(s.rows.get('org-1')).toMatchObject({ name: '改名后的公司', version: 2 });
    expect((await q.sent())[0]).toMatchObject({ recordId: 'org-1', replayed: false });

    const stale = await q.enqueueRecord('org', 'u1', org(), 'x', { id: 'org-1', version: 1 });
    expect(await q.flush('u1')).toEqual({ sent: 0, failed: 1 });
    expect((await q.get(stale.id))?.error).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('sends reports, people, houses and organisations in the order queued, each through its own sender', async () => {
    const order: string[] = [];
    const s = recordsServer();
    const q = new ReportQueue({
      dbName: dbName(),
      send: async (item) => {
        order.push('report');
        return { status: 201, body: { event: { id: 'e-' + item.key, case_no: 'C1' }, replayed: false } };
      },
      sendPerson: async (item) => {
        order.push('person');
        return { status: 201, body: { id: item.key } };
      },
      sendRecord: async (item) => {
        order.push(item.kind);
        return s.send(item);
      },
      findOwn: s.find,
    });
    await q.enqueueRecord('org', 'u1', org(), 'o');
    await q.enqueue('u1', { category: '0602', description: 'r', grid_code: '371502001001001' }, [], '占道经营');
    await q.enqueueRecord('house', 'u1', house(), 'h');
    await q.enqueuePerson('u1', { kind: 'registered', name: '甲乙' }, '甲乙');
    expect(await q.flush('u1')).toEqual({ sent: 4, failed: 0 });
    expect(order).toEqual(['org', 'report', 'house', 'person']);
  });

  it('keeps queued houses and organisations across a reopen', async () => {
    const name = dbName();
    const q1 = new ReportQueue({ dbName: name, send: noReports });
    const h = await q1.enqueueRecord('house', 'u1', house({ floor_area: 86.5 }), 'h');
    await q1.close();
    const q2 = new ReportQueue({ dbName: name, send: noReports });
    const [kept] = (await q2.list()) as QueuedRecord[];
    expect(kept).toMatchObject({ kind: 'house', key: h.key, body: { floor_area: 86.5, is_rental: true } });
    await q2.remove(kept.id);
    expect(await q2.list()).toEqual([]);
  });

  it('the real sender posts and puts JSON, a new record with its key as id', async () => {
    const seen: { url: string; method: string; body: Record<string, unknown>; type: string | null }[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      seen.push({ url, method: String(init.method), body: JSON.parse(String(init.body)) as Record<string, unknown>, type: new Headers(init.headers).get('content-type') });
      return new Response(JSON.stringify({ id: 'h-1' }), { status: 201 });
    });
    const q = new ReportQueue({ dbName: dbName(), send: noReports });
    const h = await q.enqueueRecord('house', 'u1', house(), 'h');
    await q.enqueueRecord('org', 'u1', org(), 'o', { id: 'o-9', version: 4 });
    expect(await q.flush('u1')).toEqual({ sent: 2, failed: 0 });
    expect(seen[0]).toMatchObject({ url: '/api/houses', method: 'POST', type: 'application/json', body: { is_rental: true, owner_name: '王建国' } });
    expect(seen[0].body.id).toBe(h.key);
    expect(seen[1].body.id).toBeUndefined();
    expect(seen[1]).toMatchObject({ url: '/api/orgs/o-9', method: 'PUT', body: { version: 4, uscc: '91350100M000100Y43' } });
    expect(typeof sendRecord).toBe('function');
  });

  it('the real findOwn searches the number and takes only a record of the same name created since queueing', async () => {
    const queuedAt = Date.parse('2026-11-28T10:00:00Z');
    const urls: string[] = [];
    let items: unknown[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({ items, page: 1, per_page: 50, has_more: false }), { status: 200 });
    });
    const item = { kind: 'org', method: 'POST', path: '/api/orgs', body: org({ uscc: '91350100m000100y43' }), createdAt: queuedAt } as QueuedRecord;
    const mine = { id: 'o-1', uscc: '91350100M000100Y43', name: '聊城鑫华商贸有限公司', address: 'A', created_at: '2026-11-28T10:02:00Z' };
    items = [mine];
    expect(await findOwn(item)).toEqual({ id: 'o-1', address: 'A' });
    expect(urls[0]).toBe('/api/orgs?q=91350100M000100Y43&per_page=50');
    items = [{ ...mine, name: '别的公司' }];
    expect(await findOwn(item)).toBeNull();
    items = [{ ...mine, created_at: '2026-11-27T09:00:00Z' }];
    expect(await findOwn(item)).toBeNull();
    // A house: by its number; without one there is nothing to search.
    items = [{ id: 'h-1', house_no: 'GL0012', name: null, created_at: '2026-11-28T10:01:00Z' }];
    const h = { kind: 'house', method: 'POST', path: '/api/houses', body: house({ house_no: 'GL0012' }), createdAt: queuedAt } as QueuedHouse;
    expect(await findOwn(h)).toMatchObject({ id: 'h-1' });
    expect(urls[3]).toBe('/api/houses?q=GL0012&per_page=50');
    expect(await findOwn({ ...h, body: house() })).toBeNull();
    expect(urls).toHaveLength(4);
  });
});
