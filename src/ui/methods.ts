/**
 * Methods compared beside F's runs: the published networks the worker runs from their released
 * weights (listed at start, weights downloaded when first chosen, with progress), and folders of
 * another method's fused images imported by the person (matched to the loaded pairs by stem).
 * The scheduler asks `fusedByOf` how such a result is made; everything downstream (set table,
 * trade-off plot, grid, swipe, difference, exports) treats them as runs.
 */
import { getWorker } from '../client';
import type { FusedBy } from '../protocol/messages';
import { importedFused } from './cache';
import type { MethodRun } from './store/lab';
import { useStore } from './store/store';

/** Run id of a published network. */
export const peerRunId = (peer: string): string => `peer-${peer}`;

const IMAGE_FILE = /\.(png|jpe?g|bmp|webp|tiff?)$/i;

/** Lists the published networks (once, when the comparison opens). */
export function startMethods(): void {
  if (Object.values(useStore.getState().methods).some((m) => m.kind === 'peer')) return;
  getWorker().peers().then((list) => {
    const s = useStore.getState();
    for (const p of list) {
      s.putMethod({ id: peerRunId(p.id), kind: 'peer', peer: p.id, name: `${p.label}, published weights`, citation: p.citation, macs640: p.macs640, load: 'none' });
    }
  }, (e: Error) => useStore.getState().addLog('error', `Published methods: ${e.message}`));
}

function patchPeer(id: string, patch: Partial<Extract<MethodRun, { kind: 'peer' }>>): void {
  const m = useStore.getState().methods[id];
  if (m?.kind === 'peer') useStore.getState().putMethod({ ...m, ...patch });
}

/**
 * Adds a method to the comparison or takes it out. A published network's weights are
 * downloaded and built first (progress on its row); it joins the comparison when they are ready.
 */
export async function toggleMethod(id: string): Promise<void> {
  const s = useStore.getState();
  const m = s.methods[id];
  if (!m) return;
  if (s.compareIds.includes(id)) {
    s.setLab({ compareIds: s.compareIds.filter((x) => x !== id) });
    return;
  }
  if (m.kind === 'peer' && m.load !== 'loaded') {
    if (m.load === 'loading') return;
    patchPeer(id, { load: 'loading', progress: 0, error: undefined });
    try {
      const r = await getWorker().loadPeer(m.peer, { onProgress: (p) => patchPeer(id, { progress: p.total ? p.done / p.total : 0 }) });
      patchPeer(id, { load: 'loaded', progress: 1, bytes: r.bytes });
    } catch (e) {
      patchPeer(id, { load: 'error', error: (e as Error).message });
      return;
    }
  }
  const l = useStore.getState();
  if (!l.compareIds.includes(id)) l.setLab({ compareIds: [...l.compareIds, id] });
}

/** What importing a folder of fused images found, for the person. */
export interface FusedImportReport {
  id: string | null;
  name: string;
  /** Loaded pairs with an image in the folder. */
  matched: number;
  /** Image files that match no loaded pair. */
  unmatched: string[];
  /** Loaded pairs with no image in the folder (they show an error in the comparison). */
  missing: string[];
  /** Files that are not images. */
  ignored: string[];
}

/**
 * Imports a folder (or a selection) of another method's fused images as a run: each image is
 * matched to a loaded pair by file stem; the rest is reported, not dropped silently.
 */
export function importFusedFolder(files: File[]): FusedImportReport {
  const byStem = new Map<string, File>();
  const ignored: string[] = [];
  const dup: string[] = [];
  for (const f of files) {
    if (!IMAGE_FILE.test(f.name)) {
      ignored.push(f.name);
      continue;
    }
    const stem = f.name.replace(/\.[^.]+$/, '').toLowerCase();
    if (byStem.has(stem)) dup.push(f.name);
    else byStem.set(stem, f);
  }
  const rel = (files[0] as File & { webkitRelativePath?: string } | undefined)?.webkitRelativePath ?? '';
  const folder = rel.includes('/') ? rel.split('/')[0] : 'fused images';
  const s = useStore.getState();
  const pairNames = s.order.map((id) => s.pairs[id]?.name).filter((n): n is string => Boolean(n));
  const names = new Set(pairNames.map((n) => n.toLowerCase()));
  const matched = pairNames.filter((n) => byStem.has(n.toLowerCase())).length;
  const report: FusedImportReport = {
    id: null, name: `${folder} (imported)`, matched,
    unmatched: [...byStem.keys()].filter((k) => !names.has(k)).map((k) => byStem.get(k)!.name),
    missing: pairNames.filter((n) => !byStem.has(n.toLowerCase())),
    ignored: [...ignored, ...dup.map((d) => `${d} (a second image with this name)`)],
  };
  if (!byStem.size) return report;
  const id = `fused-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  importedFused.set(id, byStem);
  s.putMethod({ id, kind: 'imported', name: report.name, files: byStem.size });
  const l = useStore.getState();
  l.setLab({ compareIds: [...l.compareIds, id] });
  return { ...report, id };
}

/** Forgets an imported folder (its files and results). */
export function removeImported(id: string): void {
  importedFused.delete(id);
  useStore.getState().removeMethod(id);
}

/**
 * How the worker makes a method's result on a pair, undefined for F's runs.
 * @throws naming the missing image when an imported folder has none for the pair.
 */
export function fusedByOf(runId: string, pairName: string): FusedBy | undefined {
  const m = useStore.getState().methods[runId];
  if (!m) return undefined;
  if (m.kind === 'peer') return { kind: 'peer', peer: m.peer };
  const file = importedFused.get(runId)?.get(pairName.toLowerCase());
  if (!file) throw new Error(`no image named ${pairName} in ${m.name}`);
  return { kind: 'image', image: { kind: 'blob', blob: file, name: file.name } };
}
