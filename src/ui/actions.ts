/**
 * What the UI does with the compute worker: start-up (worker init, bundled samples, scheduler),
 * backend switching, importing files, and removing pairs. Components call these.
 */
import { getWorker, type ClientEvent } from '../client';
import type { BackendChoice } from '../protocol/messages';
import { dropInputs, setInputs } from './cache';
import { startOffline } from './offline';
import { startScheduler } from './scheduler';
import { PRETRAINED, resultKey } from './store/results';
import { useStore, type GtBox, type PairState } from './store/store';
import { addVideoPair } from './video/player';

interface SampleIndex {
  pairs: { name: string; ir: string; vi: string; label?: string; time?: 'day' | 'night' }[];
}
interface DetectionFile {
  images: { file: string; boxes: GtBox[] }[];
}

let started = false;

/** Loads the bundled samples into the store (they fuse as soon as the worker is ready). */
async function loadSamples(): Promise<void> {
  const base = new URL('samples/', document.baseURI);
  const idx = (await (await fetch(new URL('index.json', base))).json()) as SampleIndex;
  let gt = new Map<string, GtBox[]>();
  try {
    const det = (await (await fetch(new URL('detection.json', base))).json()) as DetectionFile;
    gt = new Map(det.images.map((im) => [im.file.replace(/\.[^.]+$/, ''), im.boxes]));
  } catch { /* boxes are optional */ }
  const pairs: PairState[] = [];
  for (const s of idx.pairs) {
    const id = `sample:${s.name}`;
    const url = (p: string) => new URL(p, base).href;
    setInputs(id, {
      ir: { kind: 'url', url: url(s.ir), name: s.ir },
      vi: { kind: 'url', url: url(s.vi), name: s.vi },
      ...(s.label ? { label: { kind: 'url', url: url(s.label), name: s.label } as const } : {}),
    });
    pairs.push({
      id, name: s.name, origin: 'sample', time: s.time,
      paths: { ir: `samples/${s.ir}`, vi: `samples/${s.vi}`, ...(s.label ? { label: `samples/${s.label}` } : {}) },
      gt: gt.get(s.name),
    });
  }
  useStore.getState().addPairs(pairs);
}

function onEngineEvent(e: ClientEvent): void {
  const s = useStore.getState();
  switch (e.event) {
    case 'device-lost':
      s.addLog('error', `${e.message.replace(/\.+$/, '')}. Re-initialising…`);
      s.setWorker({ status: 'switching' });
      return;
    case 'reinitialised':
    case 'restarted':
      s.addLog('warn', e.message);
      s.setWorker({
        status: 'ready', progress: null, error: undefined,
        ...(e.ready ? { backend: e.ready.backend, models: e.ready.models, classes: e.ready.classes, warmupMs: e.ready.warmupMs } : {}),
      });
      s.requeueAll();
      return;
    case 'reinit-failed':
      s.addLog('error', e.message);
      s.setWorker({ status: 'error', error: e.message });
      return;
    case 'gpu-error':
      s.addLog('error', `${e.message.replace(/\.+$/, '')}. Results on WebGPU may be wrong: ?backend=wasm runs without it.`);
      return;
  }
}

/** Starts the app once: worker init (with progress), samples, scheduler. */
export function startApp(): void {
  if (started) return;
  started = true;
  const client = getWorker();
  const s = useStore.getState();
  client.onEvent(onEngineEvent);
  loadSamples().catch((e: Error) => s.addLog('error', `Bundled samples could not be loaded: ${e.message}`));
  s.setWorker({ status: 'loading' });
  const modelBase = new URL('models/', document.baseURI).href;
  client.init(s.settings.backendChoice, modelBase, { width: 640, height: 480 }, {
    onProgress: (p) => useStore.getState().setWorker({ progress: p }),
  }).then((ready) => {
    performance.mark('worker-ready');
    const st = useStore.getState();
    st.setWorker({ status: 'ready', progress: null, backend: ready.backend, models: ready.models, classes: ready.classes, warmupMs: ready.warmupMs });
    st.addLog('info', `Ready on ${ready.backend.name}: ${ready.backend.reason}`);
    for (const m of ready.models) if (!m.loaded) st.addLog('warn', `Model ${m.name}: ${m.note}`);
    // Without a segmenter, the ground-truth label is the only map to show.
    if (!ready.models.some((m) => m.name === 'segdet' && m.loaded)) st.setSettings({ segSource: 'label' });
  }, (e: Error) => {
    const st = useStore.getState();
    st.setWorker({ status: 'error', error: e.message, progress: null });
    st.addLog('error', `Start-up failed: ${e.message}`);
  });
  startScheduler(client);
  startOffline();
  // Test and console access (plain functions, no state mutation from outside needed).
  (globalThis as { __fusionPlayground?: unknown }).__fusionPlayground = { store: useStore, client };
}

/** Switches the backend; results are re-fused on the new one. */
export async function switchBackend(choice: BackendChoice): Promise<void> {
  const s = useStore.getState();
  s.setSettings({ backendChoice: choice });
  s.setWorker({ status: 'switching', progress: null });
  try {
    const ready = await getWorker().setBackend(choice, {
      onProgress: (p) => useStore.getState().setWorker({ progress: p }),
    });
    const st = useStore.getState();
    st.setWorker({ status: 'ready', progress: null, backend: ready.backend, models: ready.models, warmupMs: ready.warmupMs });
    st.addLog('info', `Switched to ${ready.backend.name}: ${ready.backend.reason}`);
    st.requeueAll();
  } catch (e) {
    const st = useStore.getState();
    st.setWorker({ status: 'error', error: (e as Error).message, progress: null });
    st.addLog('error', `Backend switch failed: ${(e as Error).message}`);
  }
}

/** A file with the path it was found under (folder-relative). */
export interface PathedFile {
  path: string;
  file: File;
}

let userCounter = 0;

/**
 * Pairs dropped or picked files by stem (in the worker) and adds the pairs; files left out
 * go to the import report. Good pairs go on regardless of bad ones.
 */
export async function importFiles(files: PathedFile[]): Promise<void> {
  if (!files.length) return;
  const s = useStore.getState();
  let res;
  try {
    res = await getWorker().pair(files.map((f) => f.path));
  } catch (e) {
    s.addLog('error', `Pairing failed: ${(e as Error).message}`);
    return;
  }
  const pairs: PairState[] = [];
  const videos: { id: string; stem: string; ir: PathedFile; vi: PathedFile }[] = [];
  for (const p of res.pairs) {
    const id = `user:${++userCounter}:${p.stem}`;
    const ir = files[p.ir], vi = files[p.vi];
    if (p.media === 'video') {
      videos.push({ id, stem: p.stem, ir, vi });
      continue;
    }
    const label = p.label !== undefined ? files[p.label] : undefined;
    setInputs(id, {
      ir: { kind: 'blob', blob: ir.file, name: ir.path },
      vi: { kind: 'blob', blob: vi.file, name: vi.path },
      ...(label ? { label: { kind: 'blob', blob: label.file, name: label.path } as const } : {}),
    });
    pairs.push({
      id, name: p.stem, origin: 'user',
      paths: { ir: ir.path, vi: vi.path, ...(label ? { label: label.path } : {}) },
    });
  }
  const st = useStore.getState();
  st.addPairs(pairs, true);
  // Videos are opened here (demuxed, their frames listed); one that cannot be used is reported
  // like a file left out.
  const unmatched = [...res.unmatched];
  for (const v of videos) {
    const why = await addVideoPair(v.id, v.stem, { file: v.ir.file, path: v.ir.path }, { file: v.vi.file, path: v.vi.path });
    if (why) unmatched.push({ path: `${v.ir.path} + ${v.vi.path}`, reason: why });
  }
  const added = pairs.length + videos.length - (unmatched.length - res.unmatched.length);
  st.addUnmatched(unmatched, { files: files.length, pairs: added, unmatched: unmatched.length });
  st.addLog(added ? 'info' : 'warn',
    `Imported ${files.length} file${files.length === 1 ? '' : 's'}: ${added} pair${added === 1 ? '' : 's'}, ${unmatched.length} left out.`);
}

/** Removes a pair (aborting its job; the scheduler frees its results' images). */
export function removePair(id: string): void {
  useStore.getState().removePair(id);
  dropInputs(id);
}

/** Removes all imported pairs and clears the report. */
export function clearImported(): void {
  const s = useStore.getState();
  const ids = s.order.filter((id) => s.pairs[id]?.origin === 'user');
  s.clearUserPairs();
  for (const id of ids) dropInputs(id);
}

/** Retries a result that failed (the pretrained one of a pair by default). */
export function retryResult(pairId: string, runId = PRETRAINED): void {
  useStore.getState().updateResult(resultKey(runId, pairId), { status: 'queued', error: undefined });
}
