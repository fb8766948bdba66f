/**
 * Page layout: header + loading bar; sidebar (drop zone, pairs, import report); viewer;
 * inspector (segmentation, detection, metrics, notices, compute).
 */
import { useEffect } from 'react';
import { startApp } from './actions';
import { DropZone } from './components/DropZone';
import { Header, LoadingBar } from './components/Header';
import { ImportReport } from './components/ImportReport';
import { LabSection } from './components/lab/LabSection';
import { ComputePanel, DetectionPanel, MetricsPanel, NoticesPanel, SegmentationPanel } from './components/Inspector';
import { PairList } from './components/PairList';
import { Toast } from './components/Toast';
import { Viewer } from './components/Viewer';
import { PanelBoundary } from './components/PanelBoundary';
import { deleteRun } from './runs';
import { useStore } from './store/store';

/** The viewer, whose failure offers to remove the runs it shows. */
function ViewerWithBoundary() {
  const runs = useStore((s) => s.runs);
  const shown = useStore((s) => [s.viewerRunA, s.viewerRunB].filter((id) => runs[id]).join(' '));
  return (
    <PanelBoundary name="the viewer" runs={shown ? shown.split(' ').map((id) => ({ id, name: runs[id].name })) : []}
      onRemoveRun={(id) => void deleteRun(id)}>
      <Viewer />
    </PanelBoundary>
  );
}

export function App() {
  useEffect(() => {
    startApp();
  }, []);
  return (
    <div className="app">
      <Header />
      <LoadingBar />
      <main className="layout">
        <aside className="sidebar" aria-label="Inputs">
          <DropZone />
          <PanelBoundary name="the pair list"><PairList /></PanelBoundary>
          <ImportReport />
        </aside>
        <ViewerWithBoundary />
        <aside className="inspector" aria-label="Inspector">
          <PanelBoundary name="the inspector">
            <SegmentationPanel />
            <DetectionPanel />
            <MetricsPanel />
            <NoticesPanel />
            <ComputePanel />
          </PanelBoundary>
        </aside>
      </main>
      <LabSection />
      <Toast />
    </div>
  );
}
