/**
 * The list of pairs with IR/VI thumbnails, status and per-pair actions. Virtualised
 * (@tanstack/react-virtual): a long list (hundreds of pairs) mounts the rows in view and a
 * margin around them, so selecting or fusing does not lay out and paint every row.
 */
import { memo, useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { clearImported, removePair, retryResult } from '../actions';
import { pairThumbnails } from '../thumbnails';
import { AspectChoice } from './AspectChoice';
import { newResult, PRETRAINED, resultKey, type ResultState } from '../store/results';
import { useResult, useStore, type PairState } from '../store/store';

const STATUS_LABEL: Record<ResultState['status'], string> = {
  queued: 'queued', fusing: 'fusing…', done: 'fused', held: 'held', error: 'error',
};

/** A row re-renders only when its pair, its selection or its result changes (lists grow long). */
const PairRow = memo(function PairRow({ p, selected, index, measure }: { p: PairState; selected: boolean; index: number; measure: (el: Element | null) => void }) {
  const select = useStore((s) => s.select);
  const r = useResult(p.id) ?? newResult(PRETRAINED, p.id);
  const [thumbs, setThumbs] = useState<{ ir: string; vi: string }>();
  useEffect(() => {
    let live = true;
    void pairThumbnails(p.id).then((t) => live && setThumbs(t));
    return () => { live = false; };
  }, [p.id]);
  const warn = r.notices.filter((n) => n.level === 'warn' && n.code !== 'no-weights');
  const reduced = r.notices.find((n) => n.code === 'downscaled');
  return (
    <li
      ref={measure}
      data-index={index}
      className={`pair-row${selected ? ' selected' : ''} status-${r.status}`}
      data-testid="pair-row"
      data-pair={p.name}
      data-origin={p.origin}
      data-status={r.status}
      aria-selected={selected}
      role="option"
      onClick={() => select(p.id)}
    >
      <div className="thumbs">
        {thumbs && <img src={thumbs.ir} alt="" decoding="async" />}
        {thumbs && <img src={thumbs.vi} alt="" decoding="async" />}
      </div>
      <div className="pair-meta">
        <div className="pair-name" title={`${p.paths.ir}\n${p.paths.vi}${p.paths.label ? `\n${p.paths.label}` : ''}`}>
          {p.name}
        </div>
        <div className="pair-sub">
          <span className={`dot ${r.status}${r.stale ? ' stale' : ''}`} />
          {r.status === 'error' ? <span className="err" title={r.error}>{r.error}</span>
            : r.status === 'held' ? <><span className="warn-text" title={r.error}>aspect ratios differ:</span> <AspectChoice pair={p} compact /></>
              : STATUS_LABEL[r.status]}
          {p.origin === 'sample' && <span className="tag">{p.time ?? 'sample'}</span>}
          {p.media === 'video' && <span className="tag" data-testid="video-tag">video</span>}
          {p.paths.label && <span className="tag" title="Has a ground-truth label">label</span>}
          {warn.length > 0 && !p.aspect && <span className="tag warn" title={warn.map((n) => n.message).join('\n')}>{warn[0].code === 'resized' ? 'resized' : 'notice'}</span>}
          {reduced && <span className="tag" title={reduced.message}>reduced</span>}
          {p.aspect && <span className="tag warn" data-testid="aspect-tag" title={r.notices.find((n) => n.code === 'resized' || n.code === 'cropped')?.message}>{p.aspect === 'crop' ? 'cropped' : 'stretched'}</span>}
        </div>
      </div>
      <div className="row-actions">
        {r.status === 'error' && (
          <button type="button" className="icon" title="Retry" aria-label={`Retry ${p.name}`}
            onClick={(e) => { e.stopPropagation(); retryResult(p.id); }}>↻</button>
        )}
        {p.origin === 'user' && (
          <button type="button" className="icon" title="Remove" aria-label={`Remove ${p.name}`}
            onClick={(e) => { e.stopPropagation(); removePair(p.id); }}>×</button>
        )}
      </div>
    </li>
  );
});

export function PairList() {
  const order = useStore((s) => s.order);
  const pairs = useStore((s) => s.pairs);
  const selectedId = useStore((s) => s.selectedId);
  const done = useStore((s) => s.order.filter((id) => s.results[resultKey(PRETRAINED, id)]?.status === 'done').length);
  const hasUser = order.some((id) => pairs[id]?.origin === 'user');
  const listRef = useRef<HTMLUListElement>(null);
  const rows = useVirtualizer({
    count: order.length,
    getScrollElement: () => listRef.current,
    estimateSize: () => 52,
    // About a view's worth above and below: lists of up to ~30 pairs stay fully mounted.
    overscan: 12,
    // Scroll-driven re-renders join React's normal batch instead of a flushSync inside the
    // scroll event: stepping through a long list should not stack renders into one long task.
    useFlushSync: false,
  });
  const selectedIndex = selectedId ? order.indexOf(selectedId) : -1;
  useEffect(() => {
    if (selectedIndex < 0) return undefined;
    // A task of its own: scrolling reads the layout, which would otherwise be forced inside the
    // keypress's task, after the render of the newly selected pair.
    const t = setTimeout(() => rows.scrollToIndex(selectedIndex, { align: 'auto' }), 0);
    return () => clearTimeout(t);
  }, [selectedIndex, rows]);
  const items = rows.getVirtualItems();
  const before = items[0]?.start ?? 0;
  const after = items.length ? rows.getTotalSize() - items[items.length - 1].end : 0;
  return (
    <div className="panel pair-panel">
      <div className="panel-head">
        <h2>Pairs</h2>
        <span className="muted" data-testid="pair-count" data-done={done} data-total={order.length}>{done}/{order.length} fused</span>
        {hasUser && <button type="button" className="link" onClick={clearImported}>clear imported</button>}
      </div>
      <ul
        ref={listRef}
        // A height of its own: the virtualiser mounts rows for the height it sees.
        style={{ height: `min(62vh, ${rows.getTotalSize()}px)` }}
        className="pair-list" role="listbox" aria-label="Pairs" tabIndex={0}
        onKeyDown={(e) => {
          if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
          e.preventDefault();
          const i = selectedId ? order.indexOf(selectedId) : -1;
          const next = order[Math.max(0, Math.min(order.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
          if (next) useStore.getState().select(next);
        }}
      >
        {before > 0 && <li role="presentation" style={{ height: before }} />}
        {items.map((it) => {
          const id = order[it.index];
          return pairs[id] && <PairRow key={id} p={pairs[id]} index={it.index} measure={rows.measureElement} selected={id === selectedId} />;
        })}
        {after > 0 && <li role="presentation" style={{ height: after }} />}
      </ul>
    </div>
  );
}
