import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { SAMPLE_MS, TrackBuffer, metres, shouldSample, tallyPoint, type SendFinish, type SendPoints, type TrackPoint } from './track';

let n = 0;
const dbName = () => `track-${++n}`;
const at = (s: number) => new Date(Date.UTC(2025, 10, 3, 1, 0, s)).toISOString();
const pt = (s: number, lon = 115.86 + s / 1e5): TrackPoint => ({ at: at(s), lon, lat: 36.34, accuracy: 8 });

/** A fake server: keeps points by time (duplicates ignored, like the real one); `refuse` makes it
 * answer 422 for any batch holding such a point; `down` makes it unreachable. */
function server() {
  const stored = new Map<string, TrackPoint>();
  const batches: number[] = [];
  const finished: { id: string; note: string; endedAt: number }[] = [];
  const state = { down: false, status: 0, refuse: (_: TrackPoint) => false };
  const sendPoints: SendPoints = async (points) => {
    if (state.down) throw new TypeError('Failed to fetch');
    if (state.status) return { status: state.status, body: {} };
    batches.push(points.length);
    if (points.some(state.refuse)) return { status: 422, body: { code: 'validation_failed', message: '坐标无效' } };
    for (const p of points) stored.set(p.at, p);
    return { status: 200, body: { accepted: points.length } };
  };
  const sendFinish: SendFinish = async (id, note, endedAt) => {
    if (state.down) throw new TypeError('Failed to fetch');
    finished.push({ id, note, endedAt });
    return { status: 200, body: { id, ended_at: at(999), note } };
  };
  return { stored, batches, finished, state, sendPoints, sendFinish };
}

describe('TrackBuffer', () => {
  it('keeps points taken offline across a reopen and sends them later with their own times', async () => {
    const name = dbName();
    const s = server();
    s.state.down = true;
    const b1 = new TrackBuffer({ dbName: name, sendPoints: s.sendPoints, sendFinish: s.sendFinish });
    for (const i of [0, 20, 40]) await b1.add('u1', pt(i));
    const r1 = await b1.flush('u1');
    expect(r1).toMatchObject({ sent: 0, stopped: 'offline' });
    await b1.close();

    // The app is reopened; the network is back.
    s.state.down = false;
    const b2 = new TrackBuffer({ dbName: name, sendPoints: s.sendPoints, sendFinish: s.sendFinish });
    expect(await b2.pending('u1')).toBe(3);
    const r2 = await b2.flush('u1');
    expect(r2).toMatchObject({ sent: 3, dropped: 0 });
    expect(r2.stopped).toBeUndefined();
    expect([...s.stored.keys()]).toEqual([at(0), at(20), at(40)]);
    expect(s.stored.get(at(20))).toEqual(pt(20));
    expect(await b2.pending('u1')).toBe(0);
  });

  it('sends in batches, oldest first, and only the owner’s points', async () => {
    const s = server();
    const b = new TrackBuffer({ dbName: dbName(), sendPoints: s.sendPoints, batch: 4 });
    for (let i = 0; i < 10; i++) await b.add('u1', pt(i * 15));
    await b.add('u2', pt(500));
    const r = await b.flush('u1');
    expect(r.sent).toBe(10);
    expect(s.batches).toEqual([4, 4, 2]);
    expect([...s.stored.keys()]).toEqual(Array.from({ length: 10 }, (_, i) => at(i * 15)));
    expect(await b.pending('u2')).toBe(1);
  });

  it('keeps everything on 5xx and 401 and stops the pass', async () => {
    const s = server();
    let auth = 0;
    const b = new TrackBuffer({ dbName: dbName(), sendPoints: s.sendPoints, onUnauthenticated: () => auth++ });
    await b.add('u1', pt(1));
    s.state.status = 503;
    expect((await b.flush('u1')).stopped).toBe('server');
    s.state.status = 401;
    expect((await b.flush('u1')).stopped).toBe('unauthenticated');
    expect(auth).toBe(1);
    expect(await b.pending('u1')).toBe(1);
    s.state.status = 0;
    expect((await b.flush('u1')).sent).toBe(1);
  });

  it('drops only the points the server refuses on their own', async () => {
    const s = server();
    s.state.refuse = (p) => p.lon > 200;
    const b = new TrackBuffer({ dbName: dbName(), sendPoints: s.sendPoints, batch: 8 });
    for (let i = 0; i < 8; i++) await b.add('u1', i === 5 ? pt(i, 999) : pt(i));
    const r = await b.flush('u1');
    expect(r).toMatchObject({ sent: 7, dropped: 1 });
    expect(s.stored.size).toBe(7);
    expect(s.stored.has(at(5))).toBe(false);
    expect(await b.pending('u1')).toBe(0);
  });

  it('sends a patrol finished offline after its points, once', async () => {
    const s = server();
    const order: string[] = [];
    const b = new TrackBuffer({
      dbName: dbName(),
      sendPoints: async (p) => {
        order.push('points');
        return s.sendPoints(p);
      },
      sendFinish: async (id, note, endedAt) => {
        order.push('finish');
        return s.sendFinish(id, note, endedAt);
      },
    });
    s.state.down = true;
    await b.add('u1', pt(0));
    await b.finishLater('u1', 'p-1', '沿河巡查，无异常', 1_700_000_000_000);
    expect((await b.flush('u1')).stopped).toBe('offline');
    expect(await b.finishes('u1')).toHaveLength(1);
    s.state.down = false;
    const r = await b.flush('u1');
    expect(order).toEqual(['points', 'points', 'finish']);
    expect(r.finished.map((f) => f.patrolId)).toEqual(['p-1']);
    // The patrol ends when the worker finished it, not when the network came back.
    expect(s.finished).toEqual([{ id: 'p-1', note: '沿河巡查，无异常', endedAt: 1_700_000_000_000 }]);
    expect(await b.finishes('u1')).toHaveLength(0);
    await b.flush('u1');
    expect(s.finished).toHaveLength(1);
  });

  it('drops a kept finish the server no longer knows (409)', async () => {
    const b = new TrackBuffer({
      dbName: dbName(),
      sendPoints: async () => ({ status: 200, body: {} }),
      sendFinish: async () => ({ status: 409, body: { code: 'conflict', message: '巡查已结束' } }),
    });
    await b.finishLater('u1', 'p-2', '');
    const r = await b.flush('u1');
    expect(r.finished).toEqual([]);
    expect(await b.finishes('u1')).toHaveLength(0);
  });

  it('shares a running pass between concurrent flushes (no point sent twice at once)', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const b = new TrackBuffer({
      dbName: dbName(),
      sendPoints: async (p) => {
        calls++;
        await gate;
        return { status: 200, body: { accepted: p.length } };
      },
    });
    await b.add('u1', pt(0));
    const a = b.flush('u1');
    const c = b.flush('u1');
    release();
    const [ra, rc] = await Promise.all([a, c]);
    expect(ra).toBe(rc);
    expect(calls).toBe(1);
    expect(ra.sent).toBe(1);
  });
});

describe('patrol figures', () => {
  it('measures metres on the earth', () => {
    // One thousandth of a degree of latitude is about 111 m.
    expect(metres({ lon: 115.86, lat: 36.34 }, { lon: 115.86, lat: 36.341 })).toBeCloseTo(111.2, 0);
    expect(metres({ lon: 115.86, lat: 36.34 }, { lon: 115.86, lat: 36.34 })).toBe(0);
  });

  it('samples at most every 15 s and skips poor fixes for a minute', () => {
    const t0 = 1_000_000;
    let tally = { id: 'p', points: 0, meters: 0, last: null as null | { lon: number; lat: number; t: number } };
    expect(shouldSample(tally, { accuracy: 10, t: t0 })).toBe(true);
    tally = tallyPoint(tally, { lon: 115.86, lat: 36.34, t: t0 });
    expect(shouldSample(tally, { accuracy: 10, t: t0 + SAMPLE_MS - 1 })).toBe(false);
    expect(shouldSample(tally, { accuracy: 10, t: t0 + SAMPLE_MS })).toBe(true);
    expect(shouldSample(tally, { accuracy: 500, t: t0 + 30_000 })).toBe(false);
    expect(shouldSample(tally, { accuracy: 500, t: t0 + 61_000 })).toBe(true);
  });

  it('adds up the distance and ignores GPS jumps', () => {
    const t0 = 1_000_000;
    let tally = { id: 'p', points: 0, meters: 0, last: null as null | { lon: number; lat: number; t: number } };
    tally = tallyPoint(tally, { lon: 115.86, lat: 36.34, t: t0 });
    tally = tallyPoint(tally, { lon: 115.86, lat: 36.341, t: t0 + 20_000 });
    expect(tally.points).toBe(2);
    expect(tally.meters).toBeCloseTo(111.2, 0);
    // 11 km in 20 s: a glitch; counted as a point, not as distance.
    tally = tallyPoint(tally, { lon: 115.86, lat: 36.441, t: t0 + 40_000 });
    expect(tally.points).toBe(3);
    expect(tally.meters).toBeCloseTo(111.2, 0);
  });
});
