// The person kind of the offline queue (人口采集): same rules as reports — key chosen once
// (the new person's id), removed only on 200/201, kept on no answer/401/408/429/5xx, failed
// with the server's message (and per-field problems) on other 4xx, editable and deletable.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReportQueue, sendPerson, type PersonData, type QueuedPerson, type QueuedReport, type Send, type SendPerson } from './queue';

let n = 0;
const dbName = () => `people-test-${++n}`;
const person = (name: string, extra: Partial<PersonData> = {}): PersonData => ({
  kind: 'registered',
  name,
  id_no: '371502199001011234',
  address: '东昌府区古楼街道古城社区光明路12号',
  ...extra,
});
const noReports: Send = async () => {
  throw new Error('no report expected');
};

/** A fake people API that, like the real one, treats a create with a known id as a replay. */
function peopleServer() {
  const people = new Map<string, PersonData & { version: number }>();
  const calls: { method: string; path: string; id?: string | null; name: string }[] = [];
  const send: SendPerson = async (item) => {
    const body: PersonData & { id?: string } = item.method === 'POST' ? { ...item.body, id: item.key } : item.body;
    calls.push({ method: item.method, path: item.path, id: body.id ?? null, name: body.name });
    if (item.method === 'POST') {
      const id = body.id!;
      if (people.has(id)) return { status: 200, body: { id, name: people.get(id)!.name, version: 1, warnings: [] } };
      people.set(id, { ...item.body, version: 1 });
      return { status: 201, body: { id, name: body.name, address: body.address, version: 1, warnings: [] } };
    }
    const id = item.personId;
    const cur = people.get(id);
    if (!cur) return { status: 404, body: { code: 'record_not_found', message: '记录不存在' } };
    if (cur.version !== item.body.version) return { status: 409, body: { code: 'conflict', message: '数据已被他人修改，请刷新后重试' } };
    people.set(id, { ...cur, ...item.body, version: cur.version + 1 });
    return { status: 200, body: { id, name: body.name, version: cur.version + 1, warnings: [] } };
  };
  return { people, calls, send };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('ReportQueue: people', () => {
  it('sends a new person with its key as the id, once, and records it as sent', async () => {
    const s = peopleServer();
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendPerson: s.send });
    const a = await q.enqueuePerson('u1', person('张伟'), '张伟');
    expect(a).toMatchObject({ kind: 'person', method: 'POST', path: '/api/people', personId: a.key, state: 'pending' });
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(await q.list()).toEqual([]);
    expect(s.calls).toEqual([{ method: 'POST', path: '/api/people', id: a.key, name: '张伟' }]);
    const [sent] = await q.sent();
    expect(sent).toMatchObject({ key: a.key, kind: 'person', personId: a.key, label: '张伟', replayed: false });
    expect(sent.description).toBe('东昌府区古楼街道古城社区光明路12号');
  });

  it('counts a replayed create (200) as sent without a second person', async () => {
    const s = peopleServer();
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendPerson: s.send });
    const a = await q.enqueuePerson('u1', person('李娜'), '李娜');
    // The first attempt reached the server but its answer was lost.
    await s.send(a);
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(s.people.size).toBe(1);
    expect((await q.sent())[0]).toMatchObject({ personId: a.key, replayed: true });
  });

  it('keeps a person on no answer, 5xx, 408, 429 and 401, and retries with the same key', async () => {
    for (const status of [0, 500, 503, 408, 429, 401]) {
      let unauth = 0;
      const keys: string[] = [];
      let up = false;
      const s = peopleServer();
      const q = new ReportQueue({
        dbName: dbName(),
        send: noReports,
        sendPerson: async (item) => {
          keys.push(item.key);
          if (up) return s.send(item);
          if (status === 0) throw new TypeError('Failed to fetch');
          return { status, body: { code: 'x', message: '服务器忙' } };
        },
        onUnauthenticated: () => unauth++,
      });
      const a = await q.enqueuePerson('u1', person('王芳'), '王芳');
      const r = await q.flush('u1');
      expect(r.stopped).toBe(status === 0 ? 'offline' : status === 401 ? 'unauthenticated' : 'server');
      const [kept] = await q.list();
      expect(kept).toMatchObject({ key: a.key, state: 'pending', attempts: 1 });
      expect(kept.error?.status).toBe(status);
      expect(unauth).toBe(status === 401 ? 1 : 0);
      up = true;
      expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
      expect(keys).toEqual([a.key, a.key]);
      expect([...s.people.keys()]).toEqual([a.key]);
    }
  });

  it('marks a refused person failed with the message and field problems; an edit keeps the key and sends it', async () => {
    const s = peopleServer();
    const issues = [{ field: 'id_no', code: 'id_check', message: '身份证号校验位错误，应为 5' }];
    const q = new ReportQueue({
      dbName: dbName(),
      send: noReports,
      sendPerson: async (item) =>
        item.body.id_no === 'bad'
          ? { status: 422, body: { code: 'validation_failed', message: issues[0].message, details: { field: 'id_no', reason: issues[0].message, issues } } }
          : s.send(item),
    });
    const bad = await q.enqueuePerson('u1', person('赵磊', { id_no: 'bad' }), '赵磊');
    const good = await q.enqueuePerson('u1', person('孙丽', { id_no: '371502199001021238' }), '孙丽');
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 1 });
    const [failed] = await q.list();
    expect(failed).toMatchObject({ id: bad.id, state: 'failed' });
    expect(failed.error).toEqual({ status: 422, code: 'validation_failed', message: issues[0].message, issues });
    expect(s.people.has(good.key)).toBe(true);
    // Not retried by itself.
    expect(await q.flush('u1')).toEqual({ sent: 0, failed: 0 });

    await q.updatePerson(bad.id, person('赵磊', { id_no: '371502199001031236' }), '赵磊');
    const fixed = (await q.get(bad.id)) as QueuedPerson;
    expect(fixed).toMatchObject({ key: bad.key, state: 'pending', method: 'POST', personId: bad.key });
    expect(fixed.error).toBeUndefined();
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(s.people.get(bad.key)?.id_no).toBe('371502199001031236');
  });

  it('queues an edit as a PUT with the version read; a stale version fails with the conflict', async () => {
    const s = peopleServer();
    s.people.set('p-1', { ...person('周杰'), version: 3 });
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendPerson: s.send });
    const e = await q.enqueuePerson('u1', person('周杰', { phone: '13806351234' }), '周杰', { id: 'p-1', version: 3 });
    expect(e).toMatchObject({ method: 'PUT', path: '/api/people/p-1', personId: 'p-1' });
    expect(e.body.version).toBe(3);
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(s.people.get('p-1')).toMatchObject({ phone: '13806351234', version: 4 });
    expect(s.calls[0]).toMatchObject({ method: 'PUT', id: null });
    expect((await q.sent())[0]).toMatchObject({ personId: 'p-1', replayed: false });

    const stale = await q.enqueuePerson('u1', person('周杰'), '周杰', { id: 'p-1', version: 3 });
    expect(await q.flush('u1')).toEqual({ sent: 0, failed: 1 });
    expect((await q.get(stale.id))?.error).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('sends reports and people in the order queued, each through its own sender', async () => {
    const order: string[] = [];
    const s = peopleServer();
    const q = new ReportQueue({
      dbName: dbName(),
      send: async (item) => {
        order.push('report:' + item.data.description);
        return { status: 201, body: { event: { id: 'e-' + item.key, case_no: 'C1' }, replayed: false } };
      },
      sendPerson: async (item) => {
        order.push('person:' + item.body.name);
        return s.send(item);
      },
    });
    await q.enqueue('u1', { category: '0602', description: 'r1', grid_code: '371502001001001' }, [], '占道经营');
    await q.enqueuePerson('u1', person('甲乙'), '甲乙');
    await q.enqueue('u1', { category: '0602', description: 'r2', grid_code: '371502001001001' }, [], '占道经营');
    expect(await q.flush('u1')).toEqual({ sent: 3, failed: 0 });
    expect(order).toEqual(['report:r1', 'person:甲乙', 'report:r2']);
    expect((await q.sent()).map((x) => x.kind).sort()).toEqual(['person', 'report', 'report']);
  });

  it('keeps a queued person across a reopen and will not edit one kind as the other', async () => {
    const name = dbName();
    const q1 = new ReportQueue({ dbName: name, send: noReports });
    const p = await q1.enqueuePerson('u1', person('钱多'), '钱多');
    const r = await q1.enqueue('u1', { category: '0602', description: 'r', grid_code: '371502001001001' }, [], 'x');
    await q1.close();
    const q2 = new ReportQueue({ dbName: name, send: noReports });
    const [kept, report] = await q2.list();
    expect(kept).toMatchObject({ kind: 'person', key: p.key, body: { name: '钱多' } });
    expect((report as QueuedReport).data.description).toBe('r');
    await expect(q2.update(p.id, { category: '0602', description: 'x' }, [], 'x')).rejects.toThrow();
    await expect(q2.updatePerson(r.id, person('x'), 'x')).rejects.toThrow();
    await q2.remove(p.id);
    expect((await q2.list()).map((i) => i.id)).toEqual([r.id]);
  });

  it('the real sender posts JSON with the key as id, and puts edits without one', async () => {
    const seen: { url: string; method: string; body: Record<string, unknown>; type: string | null }[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      seen.push({
        url,
        method: String(init.method),
        body: JSON.parse(String(init.body)) as Record<string, unknown>,
        type: new Headers(init.headers).get('content-type'),
      });
      return new Response(JSON.stringify({ id: 'x' }), { status: 201 });
    });
    const q = new ReportQueue({ dbName: dbName(), send: noReports });
    const a = await q.enqueuePerson('u1', person('冯雪'), '冯雪');
    await q.enqueuePerson('u1', person('冯雪'), '冯雪', { id: 'p-9', version: 2 });
    expect(await q.flush('u1')).toEqual({ sent: 2, failed: 0 });
    expect(seen[0]).toMatchObject({ url: '/api/people', method: 'POST', type: 'application/json', body: { id: a.key, name: '冯雪' } });
    expect(seen[1]).toMatchObject({ url: '/api/people/p-9', method: 'PUT', body: { version: 2 } });
    expect(seen[1].body.id).toBeUndefined();
    // The exported sender is the default one.
    expect(typeof sendPerson).toBe('function');
  });
});
