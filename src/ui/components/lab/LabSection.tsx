/**
 * The fine-tuning area under the viewer: a tab bar (Fine-tune | Runs & compare) that opens a
 * panel of the chosen tab.
 */
import { useEffect } from 'react';
import { deleteRun, startLab } from '../../runs';
import { PanelBoundary } from '../PanelBoundary';
import { useStore } from '../../store/store';
import { ComparePanel } from './ComparePanel';
import { TrainPanel } from './TrainPanel';
import './lab.css';

export function LabSection() {
  const open = useStore((s) => s.open);
  const tab = useStore((s) => s.tab);
  const set = useStore((s) => s.setLab);
  const status = useStore((s) => s.training.status);
  const step = useStore((s) => s.training.step);
  const total = useStore((s) => s.training.total);
  const nRuns = useStore((s) => s.runOrder.length);
  const runs = useStore((s) => s.runs);
  const compareIds = useStore((s) => s.compareIds);
  const compared = compareIds.filter((id) => runs[id]).map((id) => ({ id, name: runs[id].name }));
  useEffect(() => {
    startLab();
  }, []);
  const pick = (t: 'train' | 'compare') => set(open && tab === t ? { open: false } : { open: true, tab: t });
  return (
    <section className={`lab${open ? ' open' : ''}`} aria-label="Fine-tuning">
      <div className="lab-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={open && tab === 'train'} onClick={() => pick('train')}>
          Fine-tune{status !== 'idle' ? ` (${step}/${total})` : ''}
        </button>
        <button type="button" role="tab" aria-selected={open && tab === 'compare'} onClick={() => pick('compare')}>
          Runs &amp; compare ({nRuns})
        </button>
        <span className="spacer" />
        {open && <button type="button" onClick={() => set({ open: false })} aria-label="Close fine-tuning panel">▾</button>}
      </div>
      {open && (
        <div className="lab-body">
          {tab === 'train'
            ? <PanelBoundary name="the fine-tune panel"><TrainPanel /></PanelBoundary>
            : <PanelBoundary name="the comparison" runs={compared} onRemoveRun={(id) => void deleteRun(id)}><ComparePanel /></PanelBoundary>}
        </div>
      )}
    </section>
  );
}
