/**
 * Shows the latest warning or error from the log for a few seconds (device lost, worker
 * restarted, import problems), so they are seen without opening the log.
 */
import { useEffect, useState } from 'react';
import { useStore } from '../store/store';

const SHOW_MS = 8000;

export function Toast() {
  const last = useStore((s) => {
    for (let i = s.log.length - 1; i >= 0; i--) if (s.log[i].level !== 'info') return s.log[i];
    return null;
  });
  const [hidden, setHidden] = useState<number | null>(null);
  useEffect(() => {
    if (!last) return;
    const t = setTimeout(() => setHidden(last.time), SHOW_MS);
    return () => clearTimeout(t);
  }, [last]);
  if (!last || hidden === last.time || Date.now() - last.time > SHOW_MS) return null;
  return (
    <div className={`toast ${last.level}`} role="status" data-testid="toast">
      {last.message}
      <button type="button" className="icon" aria-label="Dismiss" onClick={() => setHidden(last.time)}>×</button>
    </div>
  );
}
