/**
 * Kernel budgets: a strategy step or the pipeline that runs more tfjs kernels than its budget
 * fails here, so per-op churn cannot creep back in unseen. On WebGPU each kernel costs a fixed
 * time (see `call-counts.ts` and src/bench/README.md); the dispatches themselves are counted by
 * `npm run bench` on Node's WebGPU. Counted on the CPU backend, where a call's kernels are the
 * same every run (seeded weights, fixed crops), at the bench's reduced sizes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../core/testing';
import { benchCases, caseSizes, makeEnv, ModelStore, type CaseId } from './cases';
import { countKernels } from './call-counts';

/**
 * The most kernels one warm call may run on CPU (measured when set, plus about 2 %). Lower a
 * budget when a change cuts kernels; raise one only with the reason in the commit.
 */
export const KERNEL_BUDGETS: Partial<Record<CaseId, number>> = {
  pipeline: 420,
  fixed: 3070,
  bdl: 6350,
  td: 4780,
};

describe('kernels per call stay within budget (CPU backend, tf.profile)', () => {
  const models = new ModelStore();
  beforeAll(async () => {
    await useBackend('cpu');
    await models.prepare(async () => null, ['fusion', 'discriminator', 'segdet', 'lossGenerator']);
  });
  afterAll(() => useBackend('cpu'));

  const sizes = caseSizes('reduced');
  for (const c of benchCases(sizes)) {
    const budget = KERNEL_BUDGETS[c.id];
    if (budget === undefined) continue;
    it(`${c.id}: ≤ ${budget} kernels`, async () => {
      const inst = await c.setup(makeEnv(models, sizes));
      try {
        await inst.run();
        const { kernels, byKernel } = await countKernels(() => inst.run());
        const top = Object.entries(byKernel!).slice(0, 8).map(([k, n]) => `${k} ${n}`).join(', ');
        console.log(`kernel budget: ${c.id} ${kernels} of ${budget} (${top})`);
        expect(kernels, `${c.id} runs ${kernels} kernels (${top})`).toBeLessThanOrEqual(budget);
      } finally {
        inst.dispose();
      }
    }, 120_000);
  }
});
