/**
 * The fine-tuning panel: strategy and its options (from the worker's strategy list), run
 * settings, pairs to train on, start / pause / resume / stop / discard, a weighting sweep,
 * progress with ETA, live loss curves and the preview re-fused every N steps.
 */
import { useLayoutEffect, useRef, useState } from 'react';
import type { StrategyName } from '../../../protocol/messages';
import { getPreview } from '../../cache';
import { deleteRun, RUN_NAME_MAX } from '../../runs';
import type { OptionValue } from '../../store/lab';
import { useStore } from '../../store/store';
import { discardTraining, pauseTraining, resumeTraining, runSweep, startTraining, stopTraining } from '../../training';
import { LossChart } from './LossChart';
import { parseRatios } from '../../sweep';

/** Options shown under a name of their own, not their key. */
const OPTION_LABELS: Record<string, string> = { lr: 'Learning rate' };

function fmtEta(s: number): string {
  if (!Number.isFinite(s)) return '…';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m ${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.max(0, Math.round(s))}s`;
}

/** A number input that passes on only numbers within [min, max] (the strategy would refuse others at start). */
function NumberField({ label, aria = label, value, onChange, step = 'any', min = 0, max, testId }: {
  label: string; aria?: string; value: number; onChange: (v: number) => void; step?: string; min?: number; max?: number; testId?: string;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <input type="number" value={Number.isFinite(value) ? value : ''} step={step} min={min} max={max} aria-label={aria} data-testid={testId}
        title={max !== undefined ? `${min} to ${max}` : undefined}
        onChange={(e) => { const v = Number(e.target.value); if (e.target.value !== '' && Number.isFinite(v) && v >= min && v <= (max ?? Infinity)) onChange(v); }} />
    </label>
  );
}

function OptionField({ name, value, choices, bounds, onChange }: {
  name: string; value: OptionValue; choices?: string[]; bounds?: [number, number]; onChange: (v: OptionValue) => void;
}) {
  const label = OPTION_LABELS[name];
  if (label && typeof value === 'number') return <NumberField label={label} value={value} min={bounds?.[0] ?? 0} max={bounds?.[1]} onChange={onChange} />;
  if (typeof value === 'boolean') {
    return (
      <label className="field check">
        <input type="checkbox" checked={value} aria-label={`option ${name}`} onChange={(e) => onChange(e.target.checked)} />
        <span>{name}</span>
      </label>
    );
  }
  if (typeof value === 'string') {
    return (
      <label className="field">
        <span>{name}</span>
        <select value={value} aria-label={`option ${name}`} onChange={(e) => onChange(e.target.value)}>
          {(choices ?? [value]).map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
      </label>
    );
  }
  return <NumberField label={name} aria={`option ${name}`} value={value} min={bounds?.[0] ?? 0} max={bounds?.[1]} onChange={onChange} />;
}

function Preview({ version }: { version: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const b = getPreview();
    const c = ref.current;
    if (!b || !c) return;
    c.width = b.width;
    c.height = b.height;
    c.getContext('2d')?.drawImage(b, 0, 0);
  }, [version]);
  return <canvas ref={ref} className="train-preview" data-testid="train-preview" data-version={version} />;
}

export function TrainPanel() {
  const strategies = useStore((s) => s.strategies);
  const form = useStore((s) => s.form);
  const training = useStore((s) => s.training);
  const lastRun = useStore((s) => (s.training.lastRunId ? s.runs[s.training.lastRunId] : undefined));
  const setLab = useStore((s) => s.setLab);
  const setForm = useStore((s) => s.setForm);
  const setSpec = useStore((s) => s.setSpec);
  const setOption = useStore((s) => s.setOption);
  const chooseStrategy = useStore((s) => s.chooseStrategy);
  const pairs = useStore((s) => s.pairs);
  const order = useStore((s) => s.order);
  const workerReady = useStore((s) => s.worker.status === 'ready');
  const segdetLoaded = useStore((s) => s.worker.models.some((m) => m.name === 'segdet' && m.loaded));
  const [sweep, setSweep] = useState('1:1, 1:5, 1:10');
  const { spec } = form;
  const info = strategies.find((s) => s.name === spec?.strategy);
  const busy = training.status !== 'idle';
  const options = spec?.options ?? {};
  const chosen = form.pairIds.length ? form.pairIds : order;
  // A video pair gives `videoFrames` unlabelled frames.
  const unlabelled = chosen.reduce((n, id) => n + (!pairs[id] ? 0 : pairs[id].media === 'video' ? form.videoFrames : pairs[id].paths.label ? 0 : 1), 0);
  const taskOn = Number(options.segmentation ?? 0) > 0 || Number(options.detection ?? 0) > 0;
  const ls = Object.values(training.labelSources);
  const lsText = ls.length
    ? `Task targets: ${ls.filter((x) => x === 'label').length} pair(s) from label PNGs/boxes, ${ls.filter((x) => x === 'pseudo').length} from pseudo-labels of the pretrained segmenter${ls.includes('none') ? `, ${ls.filter((x) => x === 'none').length} without` : ''}.`
    : null;
  // The worker's notes repeat the task targets for the run record; the line above says them here.
  const notes = lsText ? training.notes.filter((n) => !n.startsWith('Task targets:')) : training.notes;

  const togglePair = (id: string) => {
    const base = form.pairIds.length ? form.pairIds : order;
    const next = base.includes(id) ? base.filter((x) => x !== id) : [...base, id];
    setForm({ pairIds: next.length === order.length ? [] : next });
  };

  return (
    <div className="train-panel" aria-label="Fine-tune">
      <div className="train-form">
        <label className="field wide">
          <span>Strategy</span>
          <select value={spec?.strategy ?? ''} aria-label="Strategy" disabled={busy || !spec}
            onChange={(e) => chooseStrategy(e.target.value as StrategyName)}>
            {strategies.map((s) => <option key={s.name} value={s.name}>{s.label}</option>)}
          </select>
        </label>
        {info && <div className="fine wide">{info.description} Needs {info.requires.join(', ')}.</div>}
        <fieldset className="options" disabled={busy}>
          <legend>Loss weights and options</legend>
          {Object.entries(options).map(([k, v]) => (
            <OptionField key={`${spec?.strategy}:${k}`} name={k} value={v} choices={info?.choices[k]} bounds={info?.bounds[k]} onChange={(x) => setOption(k, x)} />
          ))}
        </fieldset>
        <fieldset className="options" disabled={busy}>
          <legend>Run</legend>
          <NumberField label="Steps" value={spec?.steps ?? NaN} step="1" min={1} onChange={(v) => setSpec({ steps: Math.max(1, Math.round(v)) })} />
          <NumberField label="Batch" value={spec?.batch ?? NaN} step="1" min={1} onChange={(v) => setSpec({ batch: Math.max(1, Math.round(v)) })} />
          <NumberField label="Crop" value={spec?.crop ?? NaN} step="32" min={32} onChange={(v) => setSpec({ crop: Math.max(32, Math.round(v)) })} />
          <NumberField label="Seed" value={spec?.seed ?? NaN} step="1" onChange={(v) => setSpec({ seed: Math.max(0, Math.round(v)) })} />
          {spec && info?.usesHeldOut && (
            <NumberField label="Held out" value={spec.heldOutFraction} step="0.05" min={0} max={0.9}
              onChange={(v) => setSpec({ heldOutFraction: v })} />
          )}
          <NumberField label="Preview every" value={form.previewEvery} step="1" min={1} onChange={(v) => setForm({ previewEvery: Math.max(1, Math.round(v)) })} />
          {order.some((id) => pairs[id]?.media === 'video') && (
            <NumberField label="Frames per video" value={form.videoFrames} step="1" min={1} max={256} testId="video-frames"
              onChange={(v) => setForm({ videoFrames: Math.max(1, Math.round(v)) })} />
          )}
          <label className="field wide">
            <span>Run name</span>
            <input type="text" value={form.name} maxLength={RUN_NAME_MAX} placeholder="(automatic)" aria-label="Run name" onChange={(e) => setForm({ name: e.target.value })} />
          </label>
        </fieldset>
        <fieldset className="options pairs" disabled={busy}>
          <legend>Train on</legend>
          {order.map((id) => pairs[id] && (
            <label key={id} className="field check">
              <input type="checkbox" checked={chosen.includes(id)} aria-label={`train on ${pairs[id].name}`} onChange={() => togglePair(id)} />
              <span>{pairs[id].name}{pairs[id].media === 'video' ? ` (video: ${form.videoFrames} frames, no label)` : pairs[id].paths.label ? '' : ' (no label)'}</span>
            </label>
          ))}
        </fieldset>
        {taskOn && (
          <div className="fine wide" data-testid="label-source-hint">
            {unlabelled === 0
              ? 'Task terms use the pairs’ label PNGs (and boxes where given).'
              : segdetLoaded
                ? `${unlabelled} pair(s) or video frames have no label: their task terms use pseudo-labels from the pretrained segmenter.`
                : `${unlabelled} pair(s) or video frames have no label and no segmenter is loaded for pseudo-labels: set the task weights to 0 or train on labelled pairs.`}
          </div>
        )}
      </div>
      <div className="train-run">
        <div className="btn-row">
          {!busy && <button type="button" className="primary" disabled={!workerReady || !info} onClick={() => void startTraining()}>Start fine-tune</button>}
          {training.status === 'running' && <button type="button" onClick={pauseTraining}>Pause</button>}
          {training.status === 'paused' && <button type="button" onClick={resumeTraining}>Resume</button>}
          {busy && training.status !== 'saving' && <button type="button" onClick={stopTraining} title="End now and keep the result as a run">Stop</button>}
          {busy && training.status !== 'saving' && <button type="button" onClick={discardTraining} title="Abandon: nothing is kept">Discard</button>}
          <span className="spacer" />
          <label className="field inline">
            <span>Sweep (fixed, intensity:gradient)</span>
            <input type="text" value={sweep} aria-label="Sweep ratios" onChange={(e) => setSweep(e.target.value)} disabled={busy} />
          </label>
          <button type="button" disabled={busy || !workerReady || parseRatios(sweep).length === 0} onClick={() => void runSweep(parseRatios(sweep))}>Run sweep</button>
        </div>
        <div className="train-progress" data-testid="train-progress" data-status={training.status} data-step={training.step}>
          <progress max={Math.max(1, training.total)} value={training.step} aria-label="Fine-tune progress" />
          <span>
            {training.status === 'idle' ? 'idle' : training.status === 'preparing' ? 'preparing pairs and models…' : `step ${training.step} / ${training.total}`}
            {(training.status === 'running') && ` · ETA ${fmtEta(training.etaS)}`}
            {training.status === 'paused' && ' · paused'}
            {training.status === 'stopping' && ' · stopping…'}
            {training.status === 'saving' && ' · saving run…'}
            {training.queued > 0 && ` · ${training.queued} more queued`}
          </span>
        </div>
        {lastRun && training.status === 'idle' && (
          <div className="fine kept" data-testid="kept-run">
            Kept as run “{lastRun.name}”.{' '}
            <button type="button" className="link" onClick={() => setLab({ tab: 'compare' })}>Compare</button>{' · '}
            <button type="button" className="link" onClick={() => void deleteRun(lastRun.id)}>Discard it</button>
          </div>
        )}
        {training.error && <div className="error-text" role="alert" data-testid="train-error">{training.error}</div>}
        {lsText && <div className="fine" data-testid="label-sources">{lsText}</div>}
        {notes.length > 0 && (
          <ul className="train-notes" data-testid="train-notes">{notes.slice(-6).map((n, i) => <li key={i}>{n}</li>)}</ul>
        )}
        <div className="train-visuals">
          <LossChart history={training.history} total={training.total} />
          {training.history.some((p) => p.stats && Object.keys(p.stats).length) && (
            <LossChart history={training.history} total={training.total} series="stats" />
          )}
          <div>
            <Preview version={training.previewVersion} />
            <div className="fine">Preview{training.previewPairId ? ` of ${pairs[training.previewPairId]?.name ?? ''}` : ''}, re-fused every {form.previewEvery} steps.</div>
          </div>
        </div>
      </div>
    </div>
  );
}
