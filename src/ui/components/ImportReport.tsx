/**
 * What happened to imported files: unmatched (from pairing), unreadable (failed to decode),
 * resized or reduced (notices). Good pairs carry on regardless.
 */
import { PRETRAINED, resultKey } from '../store/results';
import { useStore } from '../store/store';

export function ImportReport() {
  const report = useStore((s) => s.report);
  const order = useStore((s) => s.order);
  const pairs = useStore((s) => s.pairs);
  const results = useStore((s) => s.results);
  const clearReport = useStore((s) => s.clearReport);
  const user = order.map((id) => pairs[id]).filter((p) => p && p.origin === 'user')
    .map((p) => ({ ...p, result: results[resultKey(PRETRAINED, p.id)] }));
  const unreadable = user.filter((p) => p.result?.status === 'error');
  const held = user.filter((p) => p.result?.status === 'held');
  const adjusted = user.flatMap((p) => (p.result?.notices ?? [])
    .filter((n) => n.code === 'resized' || n.code === 'cropped' || n.code === 'downscaled' || n.code === 'label-size' || n.code === 'label-unreadable')
    .map((n) => ({ name: p.name, code: n.code, message: n.message })));
  if (!report.batches && !unreadable.length && !held.length && !adjusted.length) return null;
  const last = report.lastBatch;
  return (
    <div className="panel report" data-testid="import-report" aria-label="Import report">
      <div className="panel-head">
        <h2>Import report</h2>
        <button type="button" className="link" onClick={clearReport}>clear</button>
      </div>
      {last && (
        <div className="report-summary">
          Last import: {last.files} file{last.files === 1 ? '' : 's'} → <b>{last.pairs}</b> pair{last.pairs === 1 ? '' : 's'}
          {last.unmatched ? <>, <b>{last.unmatched}</b> left out</> : null}
        </div>
      )}
      {report.unmatched.length > 0 && (
        <details open data-testid="report-unmatched">
          <summary>Unmatched or ignored ({report.unmatched.length})</summary>
          <ul>{report.unmatched.map((u, i) => <li key={i}><code>{u.path}</code> — {u.reason}</li>)}</ul>
        </details>
      )}
      {unreadable.length > 0 && (
        <details open data-testid="report-unreadable">
          <summary>Unreadable ({unreadable.length})</summary>
          <ul>{unreadable.map((p) => <li key={p.id}><b>{p.name}</b> — {p.result?.error}</li>)}</ul>
        </details>
      )}
      {held.length > 0 && (
        <details open data-testid="report-held">
          <summary>Held until you choose ({held.length})</summary>
          <ul>{held.map((p) => <li key={p.id}><b>{p.name}</b> — {p.result?.error}</li>)}</ul>
        </details>
      )}
      {adjusted.length > 0 && (
        <details open data-testid="report-adjusted">
          <summary>Size mismatches and reductions ({adjusted.length})</summary>
          <ul>{adjusted.map((a, i) => <li key={i} data-code={a.code}><b>{a.name}</b> — {a.message}</li>)}</ul>
        </details>
      )}
    </div>
  );
}
