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
          <PairList />
          <ImportReport />
        </aside>
        <Viewer />
        <aside className="inspector" aria-label="Inspector">
          <SegmentationPanel />
          <DetectionPanel />
          <MetricsPanel />
          <NoticesPanel />
          <ComputePanel />
        </aside>
      </main>
      <LabSection />
      <Toast />
    </div>
  );
}
