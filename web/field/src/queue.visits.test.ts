// The visit kind of the offline queue (走访登记): kept with its photos until the server answers
// 200/201, sent with the queue's key as the visit id (a resend after a lost answer is stored once
// and answered 200), failed with the server's message on other 4xx, editable and deletable.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ReportQueue, isVisit, type QueuedVisit, type Send, type SendVisit, type VisitData } from './queue';

let n = 0;
const dbName = () => `visits-test-${++n}`;
const visit = (note = '入户走访，了解家庭情况'): VisitData => ({ subject_kind: 'person', subject_id: 'p-1', note, lon: 115.8617, lat: 36.3415 });
const noReports: Send = async () => {
  throw new Error('no report expected');
};

/** A fake visits API: the client's id is the visit id (201 new, 200 when it has it already). */
function server() {
  const visits = new Map<string, { note: string; photos: number }>();
  const state = { down: false, lose: false, refuse: '' };
  const sendVisit: SendVisit = async (item) => {
    if (state.down) throw new TypeError('Failed to fetch');
    if (state.refuse) return { status: 422, body: { code: 'validation_failed', message: state.refuse } };
    const had = visits.has(item.key);
    visits.set(item.key, { note: item.data.note, photos: item.photos.length });
    if (state.lose) throw new TypeError('connection reset');
    return { status: had ? 200 : 201, body: { id: item.key, subject_label: '张三', note: item.data.note } };
  };
  return { visits, state, sendVisit };
}

describe('visits in the queue', () => {
  it('keeps a visit with its photo offline, across a reopen, and sends it once online', async () => {
    const name = dbName();
    const s = server();
    s.state.down = true;
    const q1 = new ReportQueue({ dbName: name, send: noReports, sendVisit: s.sendVisit });
    const photo = new Blob(['jpeg'], { type: 'image/jpeg' });
    const v = await q1.enqueueVisit('u1', visit(), [photo], '走访 · 张三');
    expect((await q1.flush('u1')).stopped).toBe('offline');
    await q1.close();

    s.state.down = false;
    const q2 = new ReportQueue({ dbName: name, send: noReports, sendVisit: s.sendVisit });
    const [kept] = await q2.list();
    expect(isVisit(kept)).toBe(true);
    expect(await (kept as QueuedVisit).photos[0].text()).toBe('jpeg');
    expect((await q2.flush('u1')).sent).toBe(1);
    expect(s.visits.get(v.key)).toEqual({ note: '入户走访，了解家庭情况', photos: 1 });
    expect(await q2.list()).toHaveLength(0);
    const [sent] = await q2.sent();
    expect(sent).toMatchObject({ kind: 'visit', key: v.key, recordId: v.key, label: '走访 · 张三', replayed: false });
  });

  it('a resend after a lost answer is stored once (same id) and shown as merged', async () => {
    const s = server();
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendVisit: s.sendVisit });
    await q.enqueueVisit('u1', visit(), [], '走访 · 张三');
    s.state.lose = true;
    expect((await q.flush('u1')).stopped).toBe('offline');
    s.state.lose = false;
    expect((await q.flush('u1')).sent).toBe(1);
    expect(s.visits.size).toBe(1);
    expect((await q.sent())[0].replayed).toBe(true);
  });

  it('fails with the server message on 422, and is sent after an edit', async () => {
    const s = server();
    const q = new ReportQueue({ dbName: dbName(), send: noReports, sendVisit: s.sendVisit });
    const v = await q.enqueueVisit('u1', visit(''), [], '走访 · 张三');
    s.state.refuse = '请填写走访情况';
    const r = await q.flush('u1');
    expect(r.failed).toBe(1);
    const [failed] = await q.list();
    expect(failed).toMatchObject({ state: 'failed', error: { status: 422, message: '请填写走访情况' } });
    s.state.refuse = '';
    await q.updateVisit(v.id, visit('补充走访情况'), [], '走访 · 张三');
    expect((await q.flush('u1')).sent).toBe(1);
    expect(s.visits.get(v.key)?.note).toBe('补充走访情况');
    await expect(q.updateVisit(v.id, visit(), [], 'x')).rejects.toThrow();
  });

  it('refuses to edit another kind as a visit', async () => {
    const q = new ReportQueue({ dbName: dbName(), send: noReports });
    const r = await q.enqueue('u1', { category: '0102', description: 'x', grid_code: '371502001001001' }, [], '占道经营');
    await expect(q.updateVisit(r.id, visit(), [], 'x')).rejects.toThrow('该项不是走访登记');
  });
});
