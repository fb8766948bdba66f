/**
 * Right-hand panels: segmentation (opacity, legend, per-class toggles), detection (threshold,
 * ground truth), fusion metrics, notices of the selected pair, and the compute backend.
 */
import type { BackendChoice, FusionMetrics } from '../../protocol/messages';
import { switchBackend } from '../actions';
import { fasterBackend } from '../step-times';
import { DET_COLORS, rgbCss, SEG_COLORS } from '../render';
import { useResult, useSelectedPair, useStore } from '../store/store';
import { Segmented } from './Segmented';

const METRIC_INFO: { key: keyof FusionMetrics; title: string; digits: number }[] = [
  { key: 'EN', title: 'Entropy of the fused image (bits)', digits: 3 },
  { key: 'SD', title: 'Standard deviation (grey levels)', digits: 2 },
  { key: 'SF', title: 'Spatial frequency', digits: 2 },
  { key: 'AG', title: 'Average gradient', digits: 3 },
  { key: 'MI', title: 'Mutual information F–IR + F–VI (nats)', digits: 3 },
  { key: 'SCD', title: 'Sum of the correlations of differences', digits: 3 },
  { key: 'VIF', title: 'Visual information fidelity (IR + VI)', digits: 3 },
  { key: 'Qabf', title: 'Edge preservation Q^AB/F', digits: 3 },
  { key: 'SSIM', title: 'SSIM(F, IR) + SSIM(F, VI)', digits: 3 },
];

export function SegmentationPanel() {
  const settings = useStore((s) => s.settings);
  const setSettings = useStore((s) => s.setSettings);
  const toggleClass = useStore((s) => s.toggleClass);
  const classes = useStore((s) => s.worker.classes.seg);
  const pair = useSelectedPair();
  const hasLabel = Boolean(pair?.paths.label);
  const segModel = useStore((s) => s.worker.models.find((m) => m.name === 'segdet'));
  const hasPred = segModel?.loaded ?? false;
  return (
    <div className="panel" aria-label="Segmentation">
      <div className="panel-head">
        <h2>Segmentation</h2>
        <label className="switch"><input type="checkbox" checked={settings.showSeg} onChange={(e) => setSettings({ showSeg: e.target.checked })} /> show</label>
      </div>
      <div className="row">
        <span className="row-label">Source</span>
        <Segmented small label="Overlay source" value={settings.segSource} onChange={(v) => setSettings({ segSource: v })} options={[
          { value: 'pred', label: 'Prediction', disabled: !hasPred, title: hasPred ? 'Segmenter output on the fused image' : 'No segmenter weights loaded' },
          { value: 'label', label: 'Label', disabled: !hasLabel, title: hasLabel ? 'Ground-truth label' : 'This pair has no label' },
        ]} />
      </div>
      {!hasPred && segModel && <div className="fine">No segmenter weights loaded ({segModel.note}).</div>}
      <label className="row">
        <span className="row-label">Opacity</span>
        <input type="range" min={0} max={1} step={0.05} value={settings.segOpacity} aria-label="Segmentation opacity"
          onChange={(e) => setSettings({ segOpacity: Number(e.target.value) })} />
        <span className="num">{Math.round(settings.segOpacity * 100)}%</span>
      </label>
      <ul className="legend" aria-label="Class legend">
        {classes.map((name, i) => i === 0 ? null : (
          <li key={name}>
            <label title={`Show or hide ${name}`}>
              <input type="checkbox" checked={!settings.segHidden.includes(i)} onChange={() => toggleClass(i)} aria-label={`class ${name}`} />
              <span className="swatch" style={{ background: rgbCss(SEG_COLORS[i]) }} />
              {name.replace('_', ' ')}
            </label>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function DetectionPanel() {
  const settings = useStore((s) => s.settings);
  const setSettings = useStore((s) => s.setSettings);
  const classes = useStore((s) => s.worker.classes.det);
  const pair = useSelectedPair();
  const dets = useResult(pair?.id)?.detections ?? [];
  const shown = dets.filter((d) => d[5] >= settings.detThreshold);
  const counts = classes.map((_, c) => shown.filter((d) => d[4] === c).length);
  return (
    <div className="panel" aria-label="Detection">
      <div className="panel-head">
        <h2>Detection</h2>
        <label className="switch"><input type="checkbox" checked={settings.showDet} onChange={(e) => setSettings({ showDet: e.target.checked })} /> show</label>
      </div>
      <label className="row">
        <span className="row-label">Threshold</span>
        <input type="range" min={0.05} max={0.95} step={0.01} value={settings.detThreshold} aria-label="Detection threshold"
          onChange={(e) => setSettings({ detThreshold: Number(e.target.value) })} />
        <span className="num">{settings.detThreshold.toFixed(2)}</span>
      </label>
      <ul className="legend det">
        {classes.map((name, c) => (
          <li key={name}><span className="swatch" style={{ background: DET_COLORS[c] }} />{name}<span className="num">{counts[c]}</span></li>
        ))}
      </ul>
      <label className="row check">
        <input type="checkbox" checked={settings.showGt} disabled={!pair?.gt} onChange={(e) => setSettings({ showGt: e.target.checked })} />
        <span>Ground-truth boxes {pair?.gt ? `(${pair.gt.length}, dashed)` : '(none for this pair)'}</span>
      </label>
    </div>
  );
}

export function MetricsPanel() {
  const r = useResult(useSelectedPair()?.id);
  const scores = r?.scores;
  return (
    <div className="panel" aria-label="Fusion metrics" data-testid="metrics-panel">
      <div className="panel-head">
        <h2>Fusion metrics</h2>
        <span className="muted">{r?.scoresStatus === 'pending' ? 'computing…' : r?.scoresMs ? `${r.scoresMs.toFixed(0)} ms` : ''}</span>
      </div>
      <table className="metrics">
        <tbody>
          {METRIC_INFO.map((m) => (
            <tr key={m.key} title={m.title}>
              <th>{m.key}</th>
              <td className="num" data-metric={m.key}>{!scores ? '—' : Number.isFinite(scores.metrics[m.key]) ? scores.metrics[m.key].toFixed(m.digits) : `— ${scores.undefinedMetrics?.[m.key] ?? 'undefined'}`}</td>
            </tr>
          ))}
          {([
            ['mIoU', scores?.miou, 'Mean IoU of the predicted segmentation against the label (classes present in the label)'],
            ['mAP@0.5', scores?.map50, 'mAP@0.5 of the detections against the pair\'s ground-truth boxes'],
          ] as const).map(([name, v, title]) => v !== undefined && !Number.isNaN(v) && (
            <tr key={name} title={title}><th>{name}</th><td className="num" data-metric={name}>{(v * 100).toFixed(1)}%</td></tr>
          ))}
        </tbody>
      </table>
      <div className="fine">CDDFuse evaluator conventions (grey BT.601, 0–255); computed in the worker.</div>
    </div>
  );
}

export function NoticesPanel() {
  const notices = useResult(useSelectedPair()?.id)?.notices ?? [];
  if (!notices.length) return null;
  return (
    <div className="panel notices" aria-label="Notices" data-testid="notices">
      <div className="panel-head"><h2>Notices</h2></div>
      <ul>{notices.map((n, i) => <li key={i} className={n.level} data-code={n.code}>{n.message}</li>)}</ul>
    </div>
  );
}

/** "· from @vladmandic/human@3.3.6 · 1200 steps · 2026-11-21" from a model card, when it says so. */
function cardSummary(card: Record<string, unknown> | undefined): string {
  if (!card) return '';
  const training = card.training as { steps?: number } | undefined;
  const pretrained = card.pretrained as { package?: string } | undefined;
  const parts: string[] = [];
  if (typeof pretrained?.package === 'string') parts.push(`from ${pretrained.package}`);
  if (typeof training?.steps === 'number') parts.push(`${training.steps} steps`);
  if (typeof card.date === 'string') parts.push(card.date.slice(0, 10));
  return parts.length ? ` · ${parts.join(' · ')}` : '';
}

const BACKEND_OPTIONS: { value: BackendChoice; label: string }[] = [
  { value: 'auto', label: 'Auto' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'wasm', label: 'WASM' },
  { value: 'webgl', label: 'WebGL' },
  { value: 'cpu', label: 'CPU' },
];

/** The fine-tune's time per step and its backend, and a faster backend when this device measured one. */
function StepTimeLine() {
  const t = useStore((s) => s.training);
  const choice = useStore((s) => s.settings.backendChoice);
  if (!Number.isFinite(t.msPerStep) || !t.backend || !t.work) return null;
  const faster = fasterBackend({ backend: t.backend, msPerStep: t.msPerStep, ...t.work });
  return (
    <div className="fine" data-testid="step-time">
      Fine-tune: {t.msPerStep.toFixed(0)} ms per step on {t.backend}.
      {faster && (
        <div className="warn" data-testid="step-time-faster">
          {' '}Slower than {faster.backend} on this device ({faster.msPerStep.toFixed(0)} ms per step for the same strategy, batch and crop).{' '}
          {choice !== faster.backend && (
            <button type="button" disabled={t.status !== 'idle'} onClick={() => void switchBackend(faster.backend satisfies BackendChoice)}>
              Switch to {faster.backend}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

export function ComputePanel() {
  const worker = useStore((s) => s.worker);
  const choice = useStore((s) => s.settings.backendChoice);
  const log = useStore((s) => s.log);
  const b = worker.backend;
  return (
    <div className="panel" aria-label="Compute">
      <div className="panel-head">
        <h2>Compute</h2>
        <select value={choice} aria-label="Backend" disabled={worker.status === 'loading' || worker.status === 'switching'}
          onChange={(e) => void switchBackend(e.target.value as BackendChoice)}>
          {BACKEND_OPTIONS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      </div>
      {b ? (
        <>
          <div className="backend-reason" data-testid="backend-reason">{b.reason}</div>
          <details>
            <summary>Backends tried</summary>
            <ul className="attempts">
              {b.attempts.map((a, i) => <li key={i} className={a.ok ? 'ok' : 'no'}><b>{a.name}</b> {a.ok ? '✓' : '✗'} {a.note}</li>)}
            </ul>
          </details>
          <div className="fine">
            {worker.warmupMs !== undefined && <>Warm-up {worker.warmupMs.toFixed(0)} ms. </>}
            {worker.firstOverlayMs !== undefined && <>First overlay {(worker.firstOverlayMs / 1000).toFixed(2)} s after page load.</>}
          </div>
          <StepTimeLine />
        </>
      ) : (
        <div className="muted">{worker.status === 'error' ? worker.error : 'Starting…'}</div>
      )}
      {worker.models.length > 0 && (
        <ul className="models">
          {worker.models.map((m) => (
            <li key={m.name} className={m.loaded ? 'ok' : 'no'} title={m.note}>
              <b>{m.name}</b> {m.loaded ? `${m.params?.toLocaleString() ?? ''} params${cardSummary(m.card)}` : 'not loaded'}
            </li>
          ))}
        </ul>
      )}
      {log.length > 0 && (
        <details className="log">
          <summary>Log ({log.length})</summary>
          <ul>{log.slice().reverse().map((l, i) => <li key={i} className={l.level}>{new Date(l.time).toLocaleTimeString()} {l.message}</li>)}</ul>
        </details>
      )}
    </div>
  );
}
