/**
 * Title bar with the active backend, and the loading bar for model download and warm-up.
 */
import type { Progress } from '../../client';
import { applyUpdate } from '../offline';
import { useStore, type WorkerState } from '../store/store';

const BACKEND_LABEL: Record<string, string> = { webgpu: 'WebGPU', wasm: 'WASM', webgl: 'WebGL', cpu: 'CPU' };

/** Overall fraction of start-up: backend 0–5 %, weights 5–70 %, warm-up 70–100 %. */
function overall(p: Progress | null): number {
  if (!p) return 0;
  const f = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  switch (p.phase) {
    case 'backend': return 0.05 * f;
    case 'download': return 0.05 + 0.65 * f;
    case 'warmup': return 0.7 + 0.3 * f;
    default: return f;
  }
}

function phaseText(p: Progress | null, status: WorkerState['status']): string {
  if (!p) return status === 'switching' ? 'Switching backend…' : 'Starting the compute worker…';
  switch (p.phase) {
    case 'backend': return 'Choosing a backend…';
    case 'download': return p.total > 0
      ? `Downloading weights ${(p.done / 1e6).toFixed(2)} / ${(p.total / 1e6).toFixed(2)} MB`
      : 'Downloading weights…';
    case 'warmup': return `Warming up shaders (${p.done}/${p.total})`;
    default: return `${p.phase} ${p.done}/${p.total}`;
  }
}

export function LoadingBar() {
  const worker = useStore((s) => s.worker);
  const active = worker.status === 'loading' || worker.status === 'switching' || worker.status === 'starting';
  if (!active) return null;
  const f = overall(worker.progress);
  return (
    <div className="loading" role="progressbar" aria-label="Loading models" aria-valuemin={0} aria-valuemax={100}
      aria-valuenow={Math.round(f * 100)} data-testid="loading-bar">
      <div className="loading-fill" style={{ width: `${Math.max(2, f * 100)}%` }} />
      <span className="loading-text">{phaseText(worker.progress, worker.status)}</span>
    </div>
  );
}

export function Header() {
  const worker = useStore((s) => s.worker);
  const offline = useStore((s) => s.offline);
  const b = worker.backend;
  let badge: string;
  if (worker.status === 'error') badge = 'worker error';
  else if (!b) badge = 'starting…';
  else {
    badge = BACKEND_LABEL[b.name] ?? b.name;
    if (b.wasm) badge += ` · ${b.wasm.simd ? 'SIMD' : 'scalar'} · ${b.wasm.threads} thr`;
    if (b.adapter?.isSoftware) badge += ' · software';
  }
  return (
    <header className="app-header">
      <div className="brand">
        <span className="logo" aria-hidden>◐</span>
        <h1>Fusion Playground</h1>
        <span className="subtitle">infrared–visible fusion · segmentation · detection, in your browser</span>
      </div>
      <div className="header-right">
        <span className="private" title="Images are processed locally; nothing is uploaded.">local only</span>
        {offline === 'ready' && <span className="private" data-testid="offline-badge" title="The app, its weights and the samples are cached in this browser: it works without a network.">works offline</span>}
        {offline === 'update' && (
          <button type="button" data-testid="update-button" onClick={applyUpdate}
            title="A new version (app or weights) is cached: reload to use it. Save or export what you need first.">New version: reload</button>
        )}
        <span className={`backend-badge ${worker.status}`} data-testid="backend-badge" data-backend={b?.name ?? ''}
          title={b?.reason ?? worker.error ?? ''}>
          {badge}
        </span>
      </div>
    </header>
  );
}
