/**
 * A run's result on a pair as a component wants it: asked for when it is not there (or its images
 * were evicted), and its images once fused. Empty ids ask for nothing.
 */
import { useEffect } from 'react';
import { getResultImages, type ResultImages } from './cache';
import { needsFusing, resultKey, type ResultState } from './store/results';
import { useResult, useStore } from './store/store';

export function useRequestedResult(runId: string, pairId: string | undefined): { res?: ResultState; im?: ResultImages } {
  const wanted = Boolean(runId && pairId);
  const res = useResult(wanted ? pairId : undefined, runId);
  const requestResult = useStore((s) => s.requestResult);
  useEffect(() => {
    if (wanted && needsFusing(res)) requestResult(runId, pairId!);
  }, [wanted, res, runId, pairId, requestResult]);
  return { res, im: wanted && res?.status === 'done' && !res.evicted ? getResultImages(resultKey(runId, pairId!)) : undefined };
}
