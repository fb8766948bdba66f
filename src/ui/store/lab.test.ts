import { describe, expect, it } from 'vitest';
import type { FinetuneSpec, StrategyInfoData } from '../../protocol/messages';
import { useStore } from './store';

const spec = (strategy: FinetuneSpec['strategy'], options: FinetuneSpec['options']): FinetuneSpec =>
  ({ strategy, options, steps: 200, batch: 4, crop: 128, seed: 1, heldOutFraction: 0.2 });
const info = (name: FinetuneSpec['strategy'], options: FinetuneSpec['options']) =>
  ({ name, label: name, description: '', requires: [], mayMove: [], defaultOptions: options, defaultSpec: spec(name, options), usesHeldOut: name !== 'fixed', choices: {}, bounds: {} }) as StrategyInfoData;

describe('the fine-tune form', () => {
  it('is one spec: seeded from the strategy list, edited field by field, keeping each strategy\'s edits', () => {
    const s = () => useStore.getState();
    expect(s().form.spec).toBeNull();
    s().setLab({ strategies: [info('fixed', { lr: 1e-4, gradient: 10 }), info('bdl', { lr: 1e-4, eta: 1e-4 })] });
    expect(s().form.spec).toEqual(spec('fixed', { lr: 1e-4, gradient: 10 }));
    s().setOption('lr', 3e-4);
    s().setSpec({ steps: 50 });
    s().chooseStrategy('bdl');
    expect(s().form.spec).toEqual({ ...spec('bdl', { lr: 1e-4, eta: 1e-4 }), steps: 50 });
    s().chooseStrategy('fixed');
    // The learning rate is an option like any other: it travels in the spec, never beside it.
    expect(s().form.spec!.options).toEqual({ lr: 3e-4, gradient: 10 });
    // A second strategy list (another tab's, a restart) does not reset the form.
    s().setLab({ strategies: [info('td', { lr: 1e-4 })] });
    expect(s().form.spec!.options.lr).toBe(3e-4);
    s().loadSpec(spec('bdl', { lr: 5e-5, eta: 0.5 }));
    expect(s().form.spec).toEqual(spec('bdl', { lr: 5e-5, eta: 0.5 }));
    expect(s().form.optionsBy.bdl).toEqual({ lr: 5e-5, eta: 0.5 });
  });
});
