/**
 * Runs and their comparison on the selected pair: the run list (compare, rename, duplicate,
 * adapt S, export, delete; import), other methods (published networks, imported fused folders),
 * task-adapted scoring, the set panel, a grid of fused results with overlays, a swipe view
 * between any two of them (or the pretrained F), the metrics table with the best value per
 * column marked, and TDFusion's learned weight map for `td` runs.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { FUSION_METRIC_NAMES } from '../../../core/types';
import { retryResult } from '../../actions';
import { getResultImages, weightMaps } from '../../cache';
import { differenceMap, gridPng, groundTruth, HEAT_GRADIENT_CSS, paintInset, saveBlob, type Region } from '../../render';
import { getView, zoomCentre } from '../../view-sync';
import { exportMetrics, exportRun, exportRunWeights, importRuns, metricsRows } from '../../run-io';
import { deleteRun, duplicateRun, exportDamagedRun, loadWeightMap, renameRun, RUN_NAME_MAX } from '../../runs';
import { storageEstimate, type DamagedRun } from '../../runs-db';
import { PanelBoundary } from '../PanelBoundary';
import { comparedEntries, type RunRecord } from '../../store/lab';
import { startMethods } from '../../methods';
import { adaptS, ADAPT_STEPS_DEFAULT } from '../../adapt';
import { MethodsList } from './MethodsList';
import { AdaptControls } from './AdaptControls';
import { PRETRAINED, resultKey } from '../../store/results';
import { useResult, useSelectedPair, useStore, type PairState } from '../../store/store';
import { useRequestedResult } from '../../use-requested-result';
import { Stage } from '../Stage';
import { SetPanel } from './SetPanel';

/** Ground truth of stages without overlays. */
const NO_GT = { scale: [1, 1] as [number, number] };


/** A run's result on the pair as a tile: one Stage, so zoom and pan are linked with every other. */
function ResultTile({ runId, pair, label, inset }: { runId: string; pair: PairState; label: string; inset: Region | null }) {
  const { res, im } = useRequestedResult(runId, pair.id);
  const settings = useStore((s) => s.settings);
  const classes = useStore((s) => s.worker.classes);
  const paintExtra = useCallback((ctx: CanvasRenderingContext2D) => {
    if (inset && im) paintInset(ctx, im.fused, inset, im.width, im.height);
  }, [inset, im]);
  // Stable props: a Stage redraws its canvases when they change, and every redrawn canvas is
  // copied to the compositor again (tens of ms for a grid on a software renderer).
  const gt = useMemo(() => (im ? groundTruth(undefined, undefined, im) : undefined), [im]);
  const tileSettings = useMemo(() => ({ ...settings, segSource: 'pred' as const, showGt: false }), [settings]);
  if (res?.status === 'held') return <div className="cell-msg">held: {res.error} (choose in the pair list)</div>;
  if (res?.status === 'error') {
    return <div className="cell-msg error">{res.error} <button type="button" onClick={() => retryResult(pair.id, runId)}>retry</button></div>;
  }
  if (!im || !gt) return <><div className="cell-msg">fusing…</div><canvas data-testid="run-canvas" data-run={runId} data-ready="false" hidden /></>;
  return (
    <div className="tile">
      <Stage images={im} version={res?.version ?? 0} overlays gt={gt} classes={classes}
        settings={tileSettings} testId="run-stage" paintExtra={paintExtra} wheel="ctrl-zoom"
        left={{ bitmap: im.fused, label, testId: 'run-canvas', version: res?.version ?? 0, data: { 'data-run': runId, 'data-ready': 'true' } }} />
    </div>
  );
}

function HeatMap({ runId, pairId }: { runId: string; pairId: string }) {
  const key = resultKey(runId, pairId);
  const res = useResult(pairId, runId);
  const ref = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<'loading' | 'done' | string>('loading');
  useEffect(() => {
    if (res?.status !== 'done') return;
    let live = true;
    setState('loading');
    loadWeightMap(runId, pairId).then(() => live && setState('done'), (e: Error) => live && setState(e.message));
    return () => { live = false; };
  }, [res?.status, res?.version, runId, pairId]);
  useLayoutEffect(() => {
    const m = weightMaps.get(key);
    const c = ref.current;
    if (state !== 'done' || !m || !c) return;
    c.width = m.width;
    c.height = m.height;
    const img = new ImageData(m.width, m.height);
    for (let i = 0; i < m.wIr.length; i++) {
      const v = Math.min(1, Math.max(0, m.wIr[i]));
      // Blue (VI weighted) → white → red (IR weighted).
      img.data[4 * i] = v < 0.5 ? 255 * 2 * v : 255;
      img.data[4 * i + 1] = v < 0.5 ? 255 * 2 * v : 255 * 2 * (1 - v);
      img.data[4 * i + 2] = v < 0.5 ? 255 : 255 * 2 * (1 - v);
      img.data[4 * i + 3] = 255;
    }
    c.getContext('2d')?.putImageData(img, 0, 0);
  }, [state, key]);
  return (
    <div className="heat">
      <canvas ref={ref} data-testid="weight-map" data-run={runId} />
      {state === 'done'
        ? <ColourBar gradient="linear-gradient(to right, #00f, #fff, #f00)" ticks={['0 (visible)', '0.5', '1 (infrared)']} label="Learned w_ir: the weight of the infrared image per pixel" />
        : <div className="fine">{state === 'loading' ? 'weight map…' : state}</div>}
    </div>
  );
}

/** Two results of a pair in the page's one swipe stage (zoom linked with the viewer's). */
function Swipe({ a, b, pair, names }: { a: string; b: string; pair: PairState; names: Record<string, string> }) {
  const { res: ra, im: ia } = useRequestedResult(a, pair.id);
  const { res: rb, im: ib } = useRequestedResult(b, pair.id);
  const settings = useStore((s) => s.settings);
  const classes = useStore((s) => s.worker.classes);
  return (
    <div className="run-swipe" data-testid="run-swipe">
      {ia && ib && ia.width === ib.width && ia.height === ib.height ? (
        <Stage images={ia} version={(ra?.version ?? 0) * 1000 + (rb?.version ?? 0)} overlays={false} gt={NO_GT}
          classes={classes} settings={settings} testId="run-swipe-stage" wheel="ctrl-zoom"
          left={{ bitmap: ia.fused, label: names[a] ?? a, testId: 'swipe-left', version: ra?.version ?? 0 }}
          right={{ bitmap: ib.fused, label: names[b] ?? b, testId: 'swipe-right', version: rb?.version ?? 0 }} />
      ) : <div className="cell-msg">fusing…</div>}
    </div>
  );
}

/** An image a difference can be taken of: a source of the pair (IR, VI) or a run's fused image. */
type DiffSide = 'ir' | 'vi' | string;

function sideBitmap(side: DiffSide, pairId: string): ImageBitmap | undefined {
  const pre = getResultImages(resultKey(PRETRAINED, pairId));
  if (side === 'ir' || side === 'vi') return pre?.[side];
  return getResultImages(resultKey(side, pairId))?.fused;
}

/** |A − B| between two runs, or a run and a source, with its colour bar. */
function DiffView({ a, b, pair, names }: { a: DiffSide; b: DiffSide; pair: PairState; names: Record<string, string> }) {
  const ra = useRequestedResult(a === 'ir' || a === 'vi' ? PRETRAINED : a, pair.id);
  const rb = useRequestedResult(b === 'ir' || b === 'vi' ? PRETRAINED : b, pair.id);
  const settings = useStore((s) => s.settings);
  const classes = useStore((s) => s.worker.classes);
  const [diff, setDiff] = useState<{ bitmap: ImageBitmap; max: number; key: string } | null>(null);
  const key = `${a}|${b}|${ra.res?.version}|${rb.res?.version}`;
  useEffect(() => {
    const ia = ra.im && sideBitmap(a, pair.id), ib = rb.im && sideBitmap(b, pair.id);
    if (!ia || !ib || ia.width !== ib.width || ia.height !== ib.height) return;
    let live = true;
    const { image, max } = differenceMap(ia, ib);
    void createImageBitmap(image).then((bitmap) => {
      if (live) setDiff((old) => { old?.bitmap.close(); return { bitmap, max, key }; });
      else bitmap.close();
    });
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, Boolean(ra.im), Boolean(rb.im)]);
  const im = ra.im;
  if (!diff || !im) return <div className="cell-msg">difference…</div>;
  return (
    <div className="diff-view" data-testid="diff-view" data-max={diff.max.toFixed(3)}>
      <div className="tile">
        <Stage images={im} version={0} overlays={false} gt={NO_GT} classes={classes} settings={settings} wheel="ctrl-zoom"
          testId="diff-stage" left={{ bitmap: diff.bitmap, label: `|${names[a] ?? a} − ${names[b] ?? b}|`, testId: 'diff-canvas', version: diff.max }} />
      </div>
      <ColourBar gradient={HEAT_GRADIENT_CSS} ticks={['0', (diff.max / 2).toFixed(1), `${diff.max.toFixed(1)} levels`]} label="|ΔY| (8-bit luma levels)" />
    </div>
  );
}

/** A colour bar with its ticks under it. */
function ColourBar({ gradient, ticks, label }: { gradient: string; ticks: string[]; label: string }) {
  return (
    <div className="colour-bar" data-testid="colour-bar" aria-label={label}>
      <div className="bar" style={{ background: gradient }} />
      <div className="ticks">{ticks.map((t) => <span key={t}>{t}</span>)}</div>
      <div className="fine">{label}</div>
    </div>
  );
}

function RunRow({ run, compared }: { run: RunRecord; compared: boolean }) {
  const adapting = useStore((s) => s.adapting !== null);
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(run.name);
  const [err, setErr] = useState<string | null>(null);
  const toggle = () => {
    const l = useStore.getState();
    l.setLab({ compareIds: compared ? l.compareIds.filter((x) => x !== run.id) : [...l.compareIds, run.id] });
  };
  const last = run.history.at(-1);
  return (
    <li className="run-row" data-testid="run-row" data-run={run.id} data-name={run.name} data-strategy={run.spec.strategy}>
      <input type="checkbox" checked={compared} onChange={toggle} aria-label={`compare ${run.name}`} />
      {editing ? (
        <form onSubmit={(e) => { e.preventDefault(); void renameRun(run.id, name); setEditing(false); }}>
          <input type="text" value={name} maxLength={RUN_NAME_MAX} onChange={(e) => setName(e.target.value)} aria-label="New run name" autoFocus />
          <button type="submit">Save</button>
        </form>
      ) : (
        <span className="run-name clip" title={[run.name, ...run.notes].join('\n')}>{run.name}</span>
      )}
      {run.unsaved && <span className="tag warn" data-testid="run-unsaved" title="The browser refused to store it (storage full?): it goes with this tab. Export run keeps it as a file.">not stored</span>}
      <span className="muted">{run.spec.strategy} · {run.steps} steps{run.origin === 'imported' ? ' · imported' : ''}{last && Number.isFinite(last.total) ? ` · loss ${last.total.toPrecision(3)}` : ''}</span>
      {run.adaptedS && <span className="tag" data-testid="run-adapted" title={`S's heads took ${run.adaptedS.steps} steps on this run's fused images of ${run.adaptedS.pairNames.length} labelled pairs (${run.adaptedS.seconds.toFixed(0)} s); kept and exported with the run`}>S adapted (K {run.adaptedS.steps})</span>}
      <span className="spacer" />
      <button type="button" onClick={() => { setName(run.name); setEditing(!editing); }}>Rename</button>
      <button type="button" onClick={() => duplicateRun(run.id)} title="Prefill the fine-tune panel with this run's settings">Duplicate</button>
      <button type="button" disabled={adapting} onClick={() => adaptS([run.id], run.adaptedS?.steps ?? ADAPT_STEPS_DEFAULT).catch((e: Error) => setErr(e.message))}
        title="Adapt S's heads to this run's fused images of the labelled pairs loaded (task-adapted scoring)">Adapt S</button>
      <button type="button" onClick={() => exportRun(run.id).catch((e: Error) => setErr(e.message))} title="Download the run as one file (.fprun): settings, loss history, scores and weights">Export run</button>
      <button type="button" onClick={() => exportRunWeights(run.id).catch((e: Error) => setErr(e.message))} title="Download the weights (tfjs format): model.json + weights.bin per model the run holds">Export weights</button>
      <button type="button" onClick={() => void deleteRun(run.id)} aria-label={`delete ${run.name}`}>Delete</button>
      {err && <span className="error-text">{err}</span>}
    </li>
  );
}

/** A stored run whose record fails the schema: what is wrong, and the two things one can do. */
function DamagedRow({ run }: { run: DamagedRun }) {
  const [err, setErr] = useState<string | null>(null);
  return (
    <li className="run-row damaged" data-testid="damaged-run" data-run={run.id}>
      <span className="tag warn">damaged</span>
      <span className="run-name clip" title={run.name}>{run.name}</span>
      <span className="muted clip" title={run.why}>{run.why}</span>
      <span className="spacer" />
      <button type="button" onClick={() => exportDamagedRun(run.id).catch((e: Error) => setErr(e.message))}
        title="Download the stored record as it is (with its weights when it has them), to mend it by hand">Export as is</button>
      <button type="button" onClick={() => void deleteRun(run.id)} aria-label={`remove damaged run ${run.name}`}>Remove</button>
      {err && <span className="error-text">{err}</span>}
    </li>
  );
}

function MetricsTable({ pairId }: { pairId: string }) {
  useStore((s) => s.results);
  useStore((s) => s.compareIds);
  const rows = metricsRows(pairId);
  const cols: { key: string; get: (r: (typeof rows)[number]) => number | undefined; fmt: (v: number) => string }[] = [
    ...FUSION_METRIC_NAMES.map((k) => ({ key: k as string, get: (r: (typeof rows)[number]) => r.scores?.metrics[k], fmt: (v: number) => v.toFixed(3) })),
    { key: 'mIoU', get: (r) => r.scores?.miou, fmt: (v) => `${(100 * v).toFixed(1)}%` },
    { key: 'mAP50', get: (r) => r.scores?.map50, fmt: (v) => `${(100 * v).toFixed(1)}%` },
  ];
  const shown = cols.filter((c) => rows.some((r) => { const v = c.get(r); return v !== undefined && Number.isFinite(v); }));
  const best = Object.fromEntries(shown.map((c) => {
    const vs = rows.map(c.get).filter((v): v is number => v !== undefined && Number.isFinite(v));
    // Marked only where the rows differ (all equal: no best). Every column is higher-is-better.
    return [c.key, vs.length > 1 && Math.max(...vs) !== Math.min(...vs) ? Math.max(...vs) : undefined];
  }));
  return (
    <table className="metrics compare-table" data-testid="compare-table">
      <thead><tr><th>run</th>{shown.map((c) => <th key={c.key}>{c.key}</th>)}</tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id} data-run={r.id}>
            <th className="clip" title={r.name}>{r.name}</th>
            {shown.map((c) => {
              const v = c.get(r);
              const isBest = v !== undefined && best[c.key] === v;
              return <td key={c.key} className={`num${isBest ? ' best' : ''}`} data-best={isBest ? 'true' : undefined}>{v === undefined || !Number.isFinite(v) ? '—' : c.fmt(v)}{isBest ? ' ★' : ''}</td>;
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** An inset region: a quarter of the image each way, around the centre of the shared view. */
function insetFromView(pairId: string): Region | null {
  const im = getResultImages(resultKey(PRETRAINED, pairId));
  if (!im) return null;
  const v = getView();
  const w = Math.round(im.width / 4), h = Math.round(im.height / 4);
  const cx = v.zoom === null ? im.width / 2 : v.cx, cy = v.zoom === null ? im.height / 2 : v.cy;
  return { x: Math.round(Math.min(Math.max(cx - w / 2, 0), im.width - w)), y: Math.round(Math.min(Math.max(cy - h / 2, 0), im.height - h)), w, h };
}

/** Downloads IR, VI and the runs' fused images side by side (with the inset) as one PNG. */
async function exportGrid(pair: PairState, runIds: string[], names: Record<string, string>, inset: Region | null): Promise<void> {
  const pre = getResultImages(resultKey(PRETRAINED, pair.id));
  const tiles = [
    ...(pre?.ir && pre.vi ? [{ bitmap: pre.ir, label: 'infrared' }, { bitmap: pre.vi, label: 'visible' }] : []),
    ...runIds.flatMap((id) => {
      const im = getResultImages(resultKey(id, pair.id));
      return im ? [{ bitmap: im.fused, label: names[id] ?? id }] : [];
    }),
  ];
  if (tiles.length) saveBlob(await gridPng(tiles, inset), `grid_${pair.name}_${runIds.length}runs${inset ? '_inset' : ''}.png`);
}

/** How much this page stores (the browser's estimate): runs are most of it. */
function StorageUse({ runCount }: { runCount: number }) {
  const [use, setUse] = useState<{ usage: number; quota: number } | null>(null);
  useEffect(() => {
    let live = true;
    void storageEstimate().then((e) => live && setUse(e));
    return () => { live = false; };
  }, [runCount]);
  if (!use) return null;
  const mb = (b: number) => (b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 0);
  return <span className="muted" data-testid="storage-use" title="Delete runs to free space">stored {mb(use.usage)} MB of {mb(use.quota)} MB</span>;
}

export function ComparePanel() {
  const runs = useStore((s) => s.runs);
  const runOrder = useStore((s) => s.runOrder);
  const compareIds = useStore((s) => s.compareIds);
  const swipeA = useStore((s) => s.swipeA);
  const swipeB = useStore((s) => s.swipeB);
  const set = useStore((s) => s.setLab);
  const damaged = useStore((s) => s.damagedRuns);
  const methods = useStore((s) => s.methods);
  const pretrainedAdapted = useStore((s) => s.pretrainedAdapted);
  const pair = useSelectedPair();
  const [importMsg, setImportMsg] = useState<string | null>(null);
  useEffect(startMethods, []);
  const entries = comparedEntries({ runs, methods, compareIds, pretrainedAdapted });
  const compared = entries.map((e) => e.id);
  const choices = [
    { id: PRETRAINED, name: 'pretrained F' }, ...runOrder.filter((id) => runs[id]).map((id) => ({ id, name: runs[id].name })),
    ...entries.filter((e) => !runs[e.id]),
  ];
  const b = swipeB && choices.some((c) => c.id === swipeB) ? swipeB : compared.at(-1) ?? '';
  const names: Record<string, string> = { ir: 'infrared', vi: 'visible', ...Object.fromEntries(choices.map((c) => [c.id, c.name])) };
  const diffChoices = [{ id: 'ir', name: 'infrared' }, { id: 'vi', name: 'visible' }, ...choices];
  const [inset, setInset] = useState<Region | null>(null);
  const [diffA, setDiffA] = useState('');
  const [diffB, setDiffB] = useState(PRETRAINED);

  const onImport = async (e: ChangeEvent<HTMLInputElement>) => {
    const files = [...(e.target.files ?? [])];
    e.target.value = '';
    const { added, failed } = await importRuns(files);
    const names = added.map((id) => `"${useStore.getState().runs[id]?.name ?? id}"`);
    setImportMsg([
      ...(names.length ? [`Imported as ${names.join(', ')}.`] : []),
      ...failed.map((f) => `Import failed: ${f}`),
    ].join(' '));
  };

  return (
    <div className="compare-panel" aria-label="Runs and comparison">
      <div className="runs-list">
        <div className="panel-head">
          <h2>Runs ({runOrder.length})</h2>
          <StorageUse runCount={runOrder.length} />
          <label className="button-like" title="A run file (.fprun), or exported weights (model.json + weights.bin per model)">Import runs…
            <input type="file" multiple accept=".fprun,.json,.bin" data-testid="run-import-input" onChange={(e) => void onImport(e)} hidden />
          </label>
        </div>
        {importMsg && <div className="fine wrap-anywhere" data-testid="import-message">{importMsg}</div>}
        {runOrder.length === 0 && <div className="muted">No runs yet: fine-tune in the first tab.</div>}
        <ul>
          {runOrder.map((id) => runs[id] && (
            <PanelBoundary key={id} name={`run “${runs[id].name}”`} runs={[{ id, name: runs[id].name }]} onRemoveRun={(x) => void deleteRun(x)}>
              <RunRow run={runs[id]} compared={compareIds.includes(id)} />
            </PanelBoundary>
          ))}
          {damaged.map((d) => <DamagedRow key={d.id} run={d} />)}
        </ul>
        <PanelBoundary name="the other methods"><MethodsList /></PanelBoundary>
      </div>
      <div className="compare-right">
      <AdaptControls runIds={[PRETRAINED, ...compareIds.filter((id) => runs[id])]} />
      <SetPanel runIds={[PRETRAINED, ...compared]}
        names={{ [PRETRAINED]: { name: 'pretrained F', strategy: '-' }, ...Object.fromEntries(entries.map((e) => [e.id, { name: e.name, strategy: e.strategy }])) }} />
      {pair ? (
        <div className="compare-body">
          <div className="panel-head">
            <h2>Compare on {pair.name}</h2>
            <span className="spacer" />
            <button type="button" onClick={() => exportMetrics(pair.id, 'csv')}>⤓ Metrics CSV</button>
            <button type="button" onClick={() => exportMetrics(pair.id, 'json')}>⤓ Metrics JSON</button>
          </div>
          <MetricsTable pairId={pair.id} />
          <div className="grid-tools">
            <span className="muted">Zoom and pan are shared by every tile (Ctrl/⌘ + wheel or the buttons, drag; double-click: fit).</span>
            <button type="button" aria-label="Zoom out" title="Zoom out" onClick={() => zoomCentre(1 / 1.5)}>−</button>
            <button type="button" aria-label="Zoom in" title="Zoom in" onClick={() => zoomCentre(1.5)}>+</button>
            <button type="button" aria-label="Fit" title="Fit the image to the tiles" onClick={() => zoomCentre('fit')}>Fit</button>
            <button type="button" onClick={() => setInset(insetFromView(pair.id))} title="Outline the centre of the current view and magnify it in a corner of every tile">Inset from view</button>
            {inset && <button type="button" onClick={() => setInset(null)}>No inset</button>}
            <button type="button" onClick={() => void exportGrid(pair, [PRETRAINED, ...compared], names, inset)} title="IR, VI and the compared runs side by side at full resolution, with the inset">⤓ Grid PNG</button>
          </div>
          <div className="run-grid" data-testid="run-grid" data-inset={inset ? 'true' : undefined}>
            {[PRETRAINED, ...compared].map((id) => (
              <figure key={id} className="run-cell" data-testid="run-cell" data-run={id}>
                <PanelBoundary name={`the tile of ${names[id]}`} runs={runs[id] ? [{ id, name: names[id] }] : []} onRemoveRun={(x) => void deleteRun(x)}>
                  <ResultTile runId={id} pair={pair} label={names[id]} inset={inset} />
                  {runs[id]?.spec.strategy === 'td' && runs[id].models.includes('lossGenerator') && <HeatMap runId={id} pairId={pair.id} />}
                </PanelBoundary>
              </figure>
            ))}
          </div>
          <div className="run-swipe-pick">
            <span>Difference</span>
            <select value={diffA} aria-label="Difference A" onChange={(e) => setDiffA(e.target.value)}>
              <option value="">—</option>
              {diffChoices.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
            <span className="muted">−</span>
            <select value={diffB} aria-label="Difference B" onChange={(e) => setDiffB(e.target.value)}>
              {diffChoices.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </div>
          {diffA && <DiffView a={diffA} b={diffB} pair={pair} names={names} />}
          <div className="run-swipe-pick">
            <span>Swipe</span>
            <select value={swipeA} aria-label="Swipe left" onChange={(e) => set({ swipeA: e.target.value })}>
              {choices.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
            <span className="muted">vs</span>
            <select value={b} aria-label="Swipe right" onChange={(e) => set({ swipeB: e.target.value })}>
              <option value="">—</option>
              {choices.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </div>
          {b && <Swipe a={swipeA} b={b} pair={pair} names={names} />}
        </div>
      ) : <div className="muted">Select a pair to compare runs on it.</div>}
      </div>
    </div>
  );
}
