/**
 * Task-adapted scoring: S's heads adapted to each compared run's fused images of the labelled
 * pairs loaded (K steps each, the pretrained F's too), with progress and Cancel. The set table
 * then lists each run with the pretrained S and with its adapted S.
 */
import { useState } from 'react';
import { adaptS, ADAPT_STEPS_DEFAULT, cancelAdapt, labelledPairCount } from '../../adapt';
import { PRETRAINED } from '../../store/results';
import { useStore } from '../../store/store';

export function AdaptControls({ runIds }: { runIds: string[] }) {
  const adapting = useStore((s) => s.adapting);
  const runs = useStore((s) => s.runs);
  useStore((s) => s.order);
  const [k, setK] = useState(ADAPT_STEPS_DEFAULT);
  const [error, setError] = useState<string | null>(null);
  const labelled = labelledPairCount();
  const name = (id: string) => (id === PRETRAINED ? 'pretrained F' : runs[id]?.name ?? id);
  const start = () => {
    setError(null);
    adaptS(runIds, k).catch((e: Error) => setError(e.message));
  };
  return (
    <div className="adapt-controls" data-testid="adapt-controls" data-state={adapting ? 'running' : 'idle'}>
      <span title="As the papers score a fusion method: S's segmentation and detection heads take K steps on each run's own fused images of the labelled pairs (the same seed and crops for every run), then each run is scored with its adapted S too">
        Task-adapted scoring
      </span>
      <label>K <input type="number" min={1} max={10000} value={k} aria-label="Adaptation steps K" disabled={Boolean(adapting)}
        onChange={(e) => setK(Math.max(1, Math.round(Number(e.target.value) || 1)))} /></label>
      {!adapting && (
        <button type="button" disabled={!labelled || !runIds.length} onClick={start}
          title={labelled ? `Adapt S to the fused images of ${labelled} labelled pairs, for each run` : 'Needs labelled pairs (a label/ folder)'}>
          Adapt S to {runIds.length} run{runIds.length === 1 ? '' : 's'} ({labelled} labelled pairs)
        </button>
      )}
      {adapting && <>
        <progress max={adapting.total} value={adapting.step} data-testid="adapt-progress" />
        <span className="muted">{name(adapting.runId)}: step {adapting.step}/{adapting.total}{adapting.queue.length ? `, ${adapting.queue.length} more` : ''}</span>
        <button type="button" onClick={cancelAdapt}>Cancel</button>
      </>}
      {error && <span className="error-text" data-testid="adapt-error">{error}</span>}
    </div>
  );
}
