/**
 * A pair whose aspect ratios differ is held unfused until the person chooses: stretch the
 * visible image onto the infrared one anyway, centre-crop it to the infrared aspect, or remove
 * the pair. The choice is kept on the pair (its tag says which) and every result of it is fused
 * again with it.
 */
import { removePair } from '../actions';
import { useStore, type PairState } from '../store/store';

export function AspectChoice({ pair, compact = false }: { pair: PairState; compact?: boolean }) {
  const setPairAspect = useStore((s) => s.setPairAspect);
  const choose = (aspect: 'stretch' | 'crop') => (e: React.MouseEvent) => {
    e.stopPropagation();
    setPairAspect(pair.id, aspect);
  };
  return (
    <span className="aspect-choice" data-testid="aspect-choice">
      <button type="button" className={compact ? 'link' : ''} onClick={choose('stretch')} aria-label={`Fuse ${pair.name} anyway (stretch)`}
        title="Stretch the visible image onto the infrared one (as it is: the pair may be misaligned)">{compact ? 'stretch' : 'Fuse anyway (stretch)'}</button>
      <button type="button" className={compact ? 'link' : ''} onClick={choose('crop')} aria-label={`Centre-crop ${pair.name}`}
        title="Cut the visible image to the infrared aspect about its centre, then fuse">{compact ? 'crop' : 'Centre-crop to the infrared aspect'}</button>
      {!compact && (
        <button type="button" onClick={(e) => { e.stopPropagation(); removePair(pair.id); }} aria-label={`Remove ${pair.name} (held)`}>Remove</button>
      )}
    </span>
  );
}
