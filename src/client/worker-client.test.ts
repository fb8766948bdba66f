import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkerClient, WorkerRestartedError } from './worker-client';
import type { WorkerReply, WorkerRequest } from '../protocol/messages';

/** A stand-in Worker: records what the client posts; the test answers as the worker would. */
class FakeWorker {
  static made: FakeWorker[] = [];
  posted: WorkerRequest[] = [];
  terminated = false;
  onmessage: ((e: { data: WorkerReply }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  constructor() { FakeWorker.made.push(this); }
  postMessage(m: WorkerRequest): void { this.posted.push(m); }
  terminate(): void { this.terminated = true; }
  reply(m: WorkerReply): void { this.onmessage?.({ data: m }); }
  last<T extends WorkerRequest['type']>(type: T): Extract<WorkerRequest, { type: T }> {
    return this.posted.filter((m) => m.type === type).at(-1) as Extract<WorkerRequest, { type: T }>;
  }
}

const make = (grace = 50) => new WorkerClient(() => new FakeWorker() as unknown as Worker, { cancelGraceMs: grace });
const ready = { backend: { name: 'wasm' } } as never;

afterEach(() => {
  FakeWorker.made = [];
  vi.useRealTimers();
});

describe('WorkerClient', () => {
  it('resolves a result, routes progress, and rejects with the worker error', async () => {
    const c = make();
    const w = FakeWorker.made[0];
    const progress: number[] = [];
    const p = c.metrics('a', undefined, { onProgress: (x) => progress.push(x.done) });
    const id = w.last('metrics').id;
    w.reply({ id, type: 'progress', phase: 'metrics', done: 1, total: 2 });
    w.reply({ id, type: 'result', kind: 'metrics', payload: { resultId: 'a', metrics: {} as never, evaluation: {} as never, ms: 1 } });
    expect((await p).resultId).toBe('a');
    expect(progress).toEqual([1]);
    const q = c.metrics('b');
    w.reply({ id: w.last('metrics').id, type: 'error', error: { name: 'RangeError', message: 'bad pair' } });
    await expect(q).rejects.toMatchObject({ name: 'RangeError', message: 'bad pair' });
    // A reply of another kind than the request is refused, not passed on as the wrong type.
    const r = c.metrics('c');
    w.reply({ id: w.last('metrics').id, type: 'result', kind: 'strategies', payload: [] });
    await expect(r).rejects.toThrow('the worker answered a metrics request with a strategies result');
  });

  it('abort posts cancel; the promise rejects as aborted when the worker says cancelled', async () => {
    const c = make();
    const w = FakeWorker.made[0];
    const ctrl = new AbortController();
    const p = c.metrics('a', undefined, { signal: ctrl.signal });
    const id = w.last('metrics').id;
    ctrl.abort();
    expect(w.last('cancel').target).toBe(id);
    w.reply({ id, type: 'cancelled' });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(FakeWorker.made).toHaveLength(1); // no restart
  });

  it('restarts a worker that does not stop within the grace period; other calls reject as restarted, init is re-sent', async () => {
    vi.useFakeTimers();
    const c = make(50);
    const events: string[] = [];
    c.onEvent((e) => events.push(e.event));
    const init = c.init('wasm', '/models', { width: 64, height: 64 });
    const w0 = FakeWorker.made[0];
    w0.reply({ id: w0.last('init').id, type: 'result', kind: 'init', payload: ready });
    await init;
    const ctrl = new AbortController();
    const stuck = c.metrics('a', undefined, { signal: ctrl.signal });
    const queued = c.train({} as never, 1, [], 'a').result;
    ctrl.abort();
    const stuckErr = stuck.catch((e) => e);
    const queuedErr = queued.catch((e) => e);
    vi.advanceTimersByTime(49);
    expect(w0.terminated).toBe(false);
    vi.advanceTimersByTime(2);
    expect(w0.terminated).toBe(true);
    expect((await stuckErr).name).toBe('AbortError'); // the one the caller aborted
    const q = await queuedErr;
    expect(q).toBeInstanceOf(WorkerRestartedError); // not mistaken for a discarded fine-tune
    expect(q.message).toMatch(/did not stop within 50 ms/);
    // A fresh worker got the last init; its answer is announced as 'restarted'.
    const w1 = FakeWorker.made[1];
    expect(w1.last('init')).toMatchObject({ backend: 'wasm', modelBase: '/models' });
    w1.reply({ id: w1.last('init').id, type: 'result', kind: 'init', payload: ready });
    await vi.runAllTimersAsync();
    expect(events).toEqual(['restarted']);
  });

  it('an answer in time cancels the restart timer', async () => {
    vi.useFakeTimers();
    const c = make(50);
    const w = FakeWorker.made[0];
    const ctrl = new AbortController();
    const p = c.metrics('a', undefined, { signal: ctrl.signal }).catch((e) => e);
    ctrl.abort();
    w.reply({ id: w.last('metrics').id, type: 'cancelled' });
    vi.advanceTimersByTime(200);
    expect(w.terminated).toBe(false);
    expect((await p).name).toBe('AbortError');
  });
});
