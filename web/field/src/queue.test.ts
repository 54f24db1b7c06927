import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ReportQueue, type QueuedItem, type QueuedReport, type Send } from './queue';

let n = 0;
const dbName = () => `test-${++n}`;
const data = (description: string) => ({ category: '0602', description, grid_code: '371502001001001' });
const created = (item: QueuedReport, replayed = false) => ({
  status: replayed ? 200 : 201,
  body: { event: { id: 'e-' + item.key, case_no: 'C' + item.id }, replayed, duplicates: [] },
});

/** A fake server that remembers idempotency keys the way the real one does. */
function server() {
  const events = new Map<string, string>();
  const calls: string[] = [];
  const send: Send = async (item) => {
    calls.push(item.data.description);
    const replayed = events.has(item.key);
    events.set(item.key, item.data.description);
    return created(item, replayed);
  };
  return { events, calls, send };
}

describe('ReportQueue', () => {
  it('keeps enqueued reports, with photos and key, across a reopen', async () => {
    const name = dbName();
    const q1 = new ReportQueue({ dbName: name, send: server().send });
    const photo = new Blob(['jpeg bytes'], { type: 'image/jpeg' });
    const a = await q1.enqueue('u1', data('a'), [photo], '占道经营');
    await q1.close();

    const q2 = new ReportQueue({ dbName: name, send: server().send });
    const items = await q2.list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ key: a.key, owner: 'u1', state: 'pending', label: '占道经营' });
    expect((items[0] as QueuedReport).data.description).toBe('a');
    expect(await (items[0] as QueuedReport).photos[0].text()).toBe('jpeg bytes');
  });

  it('removes an item once the server created the event and records it as sent', async () => {
    const s = server();
    const q = new ReportQueue({ dbName: dbName(), send: s.send });
    const a = await q.enqueue('u1', data('a'), [], 'x');
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(await q.list()).toEqual([]);
    const sent = await q.sent();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ key: a.key, caseNo: 'C' + a.id, replayed: false });
    expect(s.events.get(a.key)).toBe('a');
  });

  it('keeps an item on a network failure and sends it on the next flush with the same key', async () => {
    let online = false;
    const keys: string[] = [];
    const q = new ReportQueue({
      dbName: dbName(),
      send: async (item) => {
        keys.push(item.key);
        if (!online) throw new TypeError('Failed to fetch');
        return created(item);
      },
    });
    const a = await q.enqueue('u1', data('a'), [], 'x');
    await q.enqueue('u1', data('b'), [], 'x');
    expect(await q.flush('u1')).toEqual({ sent: 0, failed: 0, stopped: 'offline' });
    const kept = await q.list();
    expect(kept.map((r) => r.state)).toEqual(['pending', 'pending']);
    expect(kept[0].error?.status).toBe(0);
    // Only one attempt: the pass stops at the first failure to keep the order.
    expect(keys).toEqual([a.key]);

    online = true;
    expect(await q.flush('u1')).toEqual({ sent: 2, failed: 0 });
    expect(await q.list()).toEqual([]);
    expect(keys[1]).toBe(a.key);
  });

  it('keeps items on 5xx, 408, 429 and 401, and reports the 401', async () => {
    for (const status of [500, 503, 408, 429, 401]) {
      let unauth = 0;
      const q = new ReportQueue({
        dbName: dbName(),
        send: async () => ({ status, body: { code: 'x', message: '服务器忙' } }),
        onUnauthenticated: () => unauth++,
      });
      await q.enqueue('u1', data('a'), [], 'x');
      const r = await q.flush('u1');
      expect(r.stopped).toBe(status === 401 ? 'unauthenticated' : 'server');
      expect((await q.list())[0].state).toBe('pending');
      expect(unauth).toBe(status === 401 ? 1 : 0);
    }
  });

  it('counts a replayed submission as sent', async () => {
    const s = server();
    const q = new ReportQueue({ dbName: dbName(), send: s.send });
    const a = await q.enqueue('u1', data('a'), [], 'x');
    // The first attempt reached the server but its answer was lost.
    await s.send(a);
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(await q.list()).toEqual([]);
    expect((await q.sent())[0].replayed).toBe(true);
    expect(s.events.size).toBe(1);
  });

  it('marks a refused report failed with the message, goes on with the next, and lets the user edit or delete it', async () => {
    const s = server();
    const q = new ReportQueue({
      dbName: dbName(),
      send: async (item) =>
        item.data.category === 'bad'
          ? { status: 422, body: { code: 'category_not_admitted', message: '“x”不在本级事项准入清单内' } }
          : s.send(item),
    });
    const bad = await q.enqueue('u1', { ...data('bad one'), category: 'bad' }, [], 'x');
    const bad2 = await q.enqueue('u1', { ...data('bad two'), category: 'bad' }, [], 'x');
    await q.enqueue('u1', data('good'), [], 'x');
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 2 });
    const left = await q.list();
    expect(left.map((r: QueuedItem) => [(r as QueuedReport).data.description, r.state])).toEqual([
      ['bad one', 'failed'],
      ['bad two', 'failed'],
    ]);
    expect(left[0].error).toEqual({ status: 422, code: 'category_not_admitted', message: '“x”不在本级事项准入清单内' });
    // A failed item is not retried by itself.
    expect(await q.flush('u1')).toEqual({ sent: 0, failed: 0 });

    await q.update(bad.id, data('fixed'), [], 'y');
    const fixed = await q.get(bad.id);
    expect(fixed).toMatchObject({ key: bad.key, state: 'pending', label: 'y' });
    expect(fixed?.error).toBeUndefined();
    await q.remove(bad2.id);
    expect(await q.flush('u1')).toEqual({ sent: 1, failed: 0 });
    expect(await q.list()).toEqual([]);
    expect(s.events.get(bad.key)).toBe('fixed');
  });

  it('never sends one item twice when flushes overlap, and sends items queued meanwhile', async () => {
    const calls: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new ReportQueue({
      dbName: dbName(),
      send: async (item) => {
        calls.push(item.key);
        await gate;
        return created(item);
      },
    });
    await q.enqueue('u1', data('a'), [], 'x');
    await q.enqueue('u1', data('b'), [], 'x');
    const flushes = [q.flush('u1'), q.flush('u1'), q.flush('u1')];
    await new Promise((r) => setTimeout(r, 10));
    expect((await q.list()).map((r) => r.state)).toEqual(['sending', 'pending']);
    await q.enqueue('u1', data('c'), [], 'x');
    q.flush('u1');
    release();
    const results = await Promise.all(flushes);
    expect(results[0]).toEqual({ sent: 3, failed: 0 });
    expect(new Set(calls).size).toBe(calls.length);
    expect(calls).toHaveLength(3);
    expect(await q.list()).toEqual([]);
  });

  it('sends in the order reported', async () => {
    const s = server();
    const q = new ReportQueue({ dbName: dbName(), send: s.send });
    for (const d of ['1', '2', '3', '4', '5']) await q.enqueue('u1', data(d), [], 'x');
    await q.flush('u1');
    expect(s.calls).toEqual(['1', '2', '3', '4', '5']);
    expect((await q.sent()).map((r) => r.description).sort()).toEqual(['1', '2', '3', '4', '5']);
  });

  it("sends only the signed-in user's items", async () => {
    const s = server();
    const q = new ReportQueue({ dbName: dbName(), send: s.send });
    await q.enqueue('u1', data('mine'), [], 'x');
    await q.enqueue('u2', data('theirs'), [], 'x');
    await q.flush('u1');
    expect(s.calls).toEqual(['mine']);
    expect((await q.list()).map((r) => r.owner)).toEqual(['u2']);
  });

  it('puts an item that was being sent when the page died back in line', async () => {
    const name = dbName();
    const q1 = new ReportQueue({ dbName: name, send: () => new Promise(() => {}) });
    await q1.enqueue('u1', data('a'), [], 'x');
    void q1.flush('u1');
    await new Promise((r) => setTimeout(r, 10));
    expect((await q1.list())[0].state).toBe('sending');
    await q1.close();

    const s = server();
    const q2 = new ReportQueue({ dbName: name, send: s.send });
    expect((await q2.list())[0].state).toBe('pending');
    await expect(q2.flush('u1')).resolves.toEqual({ sent: 1, failed: 0 });
  });

  it('refuses to delete or edit an item while it is being sent', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new ReportQueue({
      dbName: dbName(),
      send: async (item) => {
        await gate;
        return created(item);
      },
    });
    const a = await q.enqueue('u1', data('a'), [], 'x');
    const f = q.flush('u1');
    await new Promise((r) => setTimeout(r, 10));
    await expect(q.remove(a.id)).rejects.toThrow();
    await expect(q.update(a.id, data('b'), [], 'x')).rejects.toThrow();
    release();
    await f;
    expect((await q.sent())[0].description).toBe('a');
  });

  it('keeps a bounded history of sent reports', async () => {
    const s = server();
    const q = new ReportQueue({ dbName: dbName(), send: s.send, keepSent: 3 });
    for (const d of ['1', '2', '3', '4', '5']) {
      await q.enqueue('u1', data(d), [], 'x');
      await q.flush('u1');
      await new Promise((r) => setTimeout(r, 2));
    }
    expect((await q.sent()).map((r) => r.description)).toEqual(['5', '4', '3']);
  });
});
