/**
 * The one scheduler over the store's results, with a stand-in client: which result goes first,
 * that each is fused then scored once, that a run's result uses the run's weights, and that a
 * result leaving the store frees its images.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { WorkerClient } from '../client';
import { getResultImages, importedFused, runWeights, setInputs } from './cache';
import { adaptedId } from './store/lab';
import { pickNext, startScheduler } from './scheduler';
import { PRETRAINED, resultKey } from './store/results';
import { useStore, type PairState } from './store/store';

const pair = (id: string): PairState => ({ id, name: id, origin: 'user', paths: { ir: `${id}_ir.png`, vi: `${id}_vi.png` } });
const bitmap = () => {
  const b = { closed: false, close: () => { b.closed = true; } };
  return b as unknown as ImageBitmap;
};

function fakeClient() {
  const calls: { kind: string; id: string; run?: string; s?: string; by?: string }[] = [];
  const client = {
    fuse: async (resultId: string, _ir: unknown, _vi: unknown, _label: unknown, _o: unknown,
      opts: { fusionWeights?: { key: string }; segdetWeights?: { key: string }; fusedBy?: { kind: string; peer?: string; image?: { name: string } } }) => {
      const by = opts.fusedBy ? `${opts.fusedBy.kind}:${opts.fusedBy.peer ?? opts.fusedBy.image?.name}` : undefined;
      calls.push({ kind: 'fuse', id: resultId, run: opts.fusionWeights?.key, ...(opts.segdetWeights ? { s: opts.segdetWeights.key } : {}), ...(by ? { by } : {}) });
      return {
        resultId, width: 4, height: 2, source: { ir: { width: 8, height: 4 }, vi: { width: 8, height: 4 } },
        fused: bitmap(), ir: bitmap(), vi: bitmap(), seg: null, label: null, detections: [], notices: [],
        timings: { decode: 1, pipeline: 1, total: 2 }, backend: 'wasm',
      };
    },
    metrics: async (resultId: string) => {
      calls.push({ kind: 'score', id: resultId });
      return { resultId, metrics: { EN: 1 }, evaluation: { stem: resultId, metrics: null, confusion: null, detection: null }, ms: 1 };
    },
  };
  return { calls, client: client as unknown as WorkerClient };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 0));
}

beforeEach(() => {
  useStore.setState({ pairs: {}, order: [], selectedId: null, results: {}, runs: {}, runOrder: [] });
  useStore.getState().setWorker({ status: 'ready' });
});

describe('scheduler', () => {
  it('fuses the selected pair first, scores what is fused before fusing more, then pairs in order, then run results', () => {
    const s = useStore.getState();
    s.addPairs([pair('a'), pair('b')]);
    s.select('b');
    s.requestResult('run1', 'a');
    const next = () => pickNext(useStore.getState());
    const done = (key: string) => useStore.getState().updateResult(key, { status: 'done' });
    const scored = (key: string) => useStore.getState().updateResult(key, { scoresStatus: 'done' });
    expect(next()).toEqual({ kind: 'fuse', key: resultKey(PRETRAINED, 'b') });
    done(resultKey(PRETRAINED, 'b'));
    expect(next()).toEqual({ kind: 'score', key: resultKey(PRETRAINED, 'b') });
    scored(resultKey(PRETRAINED, 'b'));
    expect(next()).toEqual({ kind: 'fuse', key: resultKey(PRETRAINED, 'a') });
    done(resultKey(PRETRAINED, 'a'));
    scored(resultKey(PRETRAINED, 'a'));
    expect(next()).toEqual({ kind: 'fuse', key: resultKey('run1', 'a') });
    // Evicted before it was scored: fused again (its scores are not there to keep).
    useStore.getState().updateResult(resultKey('run1', 'a'), { status: 'done', evicted: true });
    expect(next()).toEqual({ kind: 'fuse', key: resultKey('run1', 'a') });
    scored(resultKey('run1', 'a'));
    expect(next()).toBeNull();
    // An evicted result of the selected pair is fused again before anything else.
    useStore.getState().updateResult(resultKey(PRETRAINED, 'b'), { evicted: true });
    expect(next()).toEqual({ kind: 'fuse', key: resultKey(PRETRAINED, 'b') });
  });

  it('fuses then scores every result once; a run result uses its weights; a removed pair frees its images', async () => {
    const { calls, client } = fakeClient();
    for (const id of ['a', 'b']) setInputs(id, { ir: { kind: 'url', url: `${id}.png`, name: id }, vi: { kind: 'url', url: `${id}.png`, name: id } });
    runWeights.set('run1', { fusion: { modelJson: {}, weightData: new ArrayBuffer(0) } });
    const stop = startScheduler(client);
    const s = useStore.getState();
    s.addPairs([pair('a'), pair('b')]);
    s.requestResult('run1', 'b');
    await settle();
    const fuses = calls.filter((c) => c.kind === 'fuse');
    expect(fuses.map((c) => c.id)).toEqual([resultKey(PRETRAINED, 'a'), resultKey(PRETRAINED, 'b'), resultKey('run1', 'b')]);
    expect(fuses.map((c) => c.run)).toEqual([undefined, undefined, 'run1']);
    // Each result is scored right after it is fused (the worker keeps only a few to score).
    expect(calls.map((c) => c.kind)).toEqual(['fuse', 'score', 'fuse', 'score', 'fuse', 'score']);
    expect(calls.filter((c) => c.kind === 'score').map((c) => c.id)).toEqual(fuses.map((c) => c.id));
    const results = useStore.getState().results;
    expect(Object.values(results).map((r) => [r.status, r.scoresStatus])).toEqual([['done', 'done'], ['done', 'done'], ['done', 'done']]);
    // A run's result keeps its fused image only; the pretrained one keeps IR and VI as well.
    expect(getResultImages(resultKey('run1', 'b'))?.ir).toBeUndefined();
    const im = getResultImages(resultKey(PRETRAINED, 'b'))!;
    expect(im.ir).toBeDefined();
    useStore.getState().removePair('b');
    await settle();
    expect(getResultImages(resultKey(PRETRAINED, 'b'))).toBeUndefined();
    expect(getResultImages(resultKey('run1', 'b'))).toBeUndefined();
    expect((im.fused as unknown as { closed: boolean }).closed).toBe(true);
    stop();
  });

  it('asks the worker for other methods\' images and for a run\'s adapted S; an imported folder without the pair\'s image is an error', async () => {
    const { calls, client } = fakeClient();
    for (const id of ['a', 'b']) setInputs(id, { ir: { kind: 'url', url: `${id}.png`, name: id }, vi: { kind: 'url', url: `${id}.png`, name: id } });
    const w = { modelJson: {}, weightData: new ArrayBuffer(0) };
    runWeights.set('run1', { fusion: w, segdetAdapted: w });
    const s = useStore.getState();
    s.putRun({ id: 'run1', name: 'run1', spec: { strategy: 'fixed', options: {}, steps: 1, batch: 1, crop: 64, seed: 1, heldOutFraction: 0.2 }, steps: 1, history: [], notes: [],
      labelSources: {}, pairNames: [], models: ['fusion', 'segdetAdapted'], createdAt: 0, seconds: 0, backend: 'wasm', stopped: false, origin: 'trained', scores: {},
      adaptedS: { steps: 3, pairNames: ['a'], seconds: 1, createdAt: 7 } });
    s.putMethod({ id: 'peer-x', kind: 'peer', peer: 'x', name: 'X', citation: '', macs640: 1, load: 'loaded' });
    s.addPairs([pair('a'), pair('b')]);
    importedFused.set('fused-1', new Map([['a', new File([new Uint8Array(1)], 'A.png')]]));
    s.putMethod({ id: 'fused-1', kind: 'imported', name: 'folder (imported)', files: 1 });
    const stop = startScheduler(client);
    s.requestResults([{ runId: 'peer-x', pairId: 'a' }, { runId: 'fused-1', pairId: 'a' }, { runId: 'fused-1', pairId: 'b' }, { runId: adaptedId('run1'), pairId: 'a' }]);
    await settle();
    const fuses = calls.filter((c) => c.kind === 'fuse' && !c.id.startsWith(PRETRAINED));
    expect(fuses).toEqual([
      { kind: 'fuse', id: resultKey('peer-x', 'a'), run: undefined, by: 'peer:x' },
      { kind: 'fuse', id: resultKey('fused-1', 'a'), run: undefined, by: 'image:A.png' },
      { kind: 'fuse', id: resultKey('run1@S', 'a'), run: 'run1', s: 'run1@7' },
    ]);
    expect(useStore.getState().results[resultKey('fused-1', 'b')]).toMatchObject({ status: 'error', error: 'no image named b in folder (imported)' });
    stop();
  });

  it('drops a scoring under way when the pair is fused again (the next frame of a video) or starts playing, and scores later', async () => {
    const { calls, client } = fakeClient();
    // Metrics that take until they are aborted, while `hold` is set.
    let hold = true;
    const aborted: string[] = [];
    const score = client.metrics.bind(client);
    (client as unknown as { metrics: unknown }).metrics = (resultId: string, boxes: undefined, opts: { signal?: AbortSignal }) => (hold
      ? new Promise((_resolve, reject) => {
        calls.push({ kind: 'score', id: resultId });
        opts.signal?.addEventListener('abort', () => { aborted.push(resultId); reject(new DOMException('aborted', 'AbortError')); });
      })
      : score(resultId, boxes, opts));
    setInputs('v', { ir: { kind: 'url', url: 'v.png', name: 'v' }, vi: { kind: 'url', url: 'v.png', name: 'v' } });
    const stop = startScheduler(client);
    const s = useStore.getState();
    s.addPairs([{ ...pair('v'), media: 'video' }]);
    await settle();
    const key = resultKey(PRETRAINED, 'v');
    expect(calls.map((c) => c.kind)).toEqual(['fuse', 'score']);
    // The next frame: the scoring stops and the new frame is fused at once.
    s.refreshPair('v');
    await settle();
    expect(aborted).toEqual([key]);
    expect(calls.map((c) => c.kind)).toEqual(['fuse', 'score', 'fuse', 'score']);
    // Playing: the scoring stops and none starts while it plays.
    s.setPlaying('v');
    await settle();
    expect(aborted).toEqual([key, key]);
    expect(useStore.getState().results[key].scoresStatus).toBe('none');
    expect(calls.length).toBe(4);
    // Paused: scored.
    hold = false;
    s.setPlaying(null);
    await settle();
    expect(calls.map((c) => c.kind)).toEqual(['fuse', 'score', 'fuse', 'score', 'score']);
    expect(useStore.getState().results[key].scoresStatus).toBe('done');
    stop();
  });
});
