/**
 * Other methods beside F's runs: the published networks (weights downloaded when first
 * compared, with progress) and imported folders of another method's fused images.
 */
import { useState, type ChangeEvent } from 'react';
import { importFusedFolder, removeImported, toggleMethod, type FusedImportReport } from '../../methods';
import type { MethodRun } from '../../store/lab';
import { useStore } from '../../store/store';

function MethodRow({ m, compared }: { m: MethodRun; compared: boolean }) {
  const loading = m.kind === 'peer' && m.load === 'loading';
  const detail = m.kind === 'imported' ? `${m.files} fused image${m.files === 1 ? '' : 's'}`
    : m.load === 'loaded' ? `${(m.macs640 / 1e9).toFixed(0)} G multiply-adds per 640×480 pair${m.bytes ? ` · ${(m.bytes / 2 ** 20).toFixed(2)} MB of weights` : ''}`
      : m.load === 'error' ? m.error ?? 'weights unavailable'
        : `weights load when first compared · ${(m.macs640 / 1e9).toFixed(0)} G multiply-adds per 640×480 pair`;
  return (
    <li className="run-row method-row" data-testid="method-row" data-run={m.id} data-kind={m.kind} data-load={m.kind === 'peer' ? m.load : undefined}>
      <input type="checkbox" checked={compared} disabled={loading} onChange={() => void toggleMethod(m.id)} aria-label={`compare ${m.name}`} />
      <span className="run-name clip" title={m.kind === 'peer' ? m.citation : m.name}>{m.name}</span>
      {loading && <progress max={1} value={m.progress ?? 0} data-testid="method-progress" aria-label={`${m.name} weights`} />}
      <span className={`muted clip${m.kind === 'peer' && m.load === 'error' ? ' error-text' : ''}`} title={detail}>{detail}</span>
      <span className="spacer" />
      {m.kind === 'imported' && <button type="button" onClick={() => removeImported(m.id)} aria-label={`remove ${m.name}`}>Remove</button>}
    </li>
  );
}

function describe(r: FusedImportReport): string {
  const list = (xs: string[]) => (xs.length > 5 ? `${xs.slice(0, 5).join(', ')} and ${xs.length - 5} more` : xs.join(', '));
  if (!r.id) return `No image in the chosen files${r.ignored.length ? ` (not images: ${list(r.ignored)})` : ''}: nothing imported.`;
  return [
    `Imported "${r.name}": ${r.matched} loaded pair${r.matched === 1 ? '' : 's'} matched by name.`,
    ...(r.missing.length ? [`No image for ${list(r.missing)} (shown as an error there).`] : []),
    ...(r.unmatched.length ? [`Not matching any loaded pair: ${list(r.unmatched)}.`] : []),
    ...(r.ignored.length ? [`Left out: ${list(r.ignored)}.`] : []),
  ].join(' ');
}

export function MethodsList() {
  const methods = useStore((s) => s.methods);
  const compareIds = useStore((s) => s.compareIds);
  const [msg, setMsg] = useState<string | null>(null);
  const onPick = (e: ChangeEvent<HTMLInputElement>) => {
    const files = [...(e.target.files ?? [])];
    e.target.value = '';
    if (files.length) setMsg(describe(importFusedFolder(files)));
  };
  const list = Object.values(methods);
  return (
    <div className="methods-list">
      <div className="panel-head">
        <h3>Other methods</h3>
        <span className="spacer" />
        <label className="button-like" title="A folder of another method's fused images, grey or colour, named like the loaded pairs (the infrared image's size)">Import fused results…
          {/* A folder picker; the attribute is not in React's types. */}
          <input type="file" multiple accept="image/*" data-testid="fused-import-input" onChange={onPick} hidden {...{ webkitdirectory: '' }} />
        </label>
        <label className="button-like" title="Pick the fused images themselves rather than their folder">files…
          <input type="file" multiple accept="image/*" data-testid="fused-import-files" onChange={onPick} hidden />
        </label>
      </div>
      {msg && <div className="fine wrap-anywhere" data-testid="fused-import-message">{msg}</div>}
      <ul>{list.map((m) => <MethodRow key={m.id} m={m} compared={compareIds.includes(m.id)} />)}</ul>
    </div>
  );
}
