import { describe, expect, it } from 'vitest';
import type { FinetuneSpec, StrategyInfoData } from '../../protocol/messages';
import { useStore } from './store';
import { adaptedBase, adaptedId, comparedEntries, comparedEntry, type RunRecord } from './lab';

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

describe('what the comparison lists', () => {
  it('each compared run, then its scoring with an adapted S; methods by kind; the pretrained F\'s adapted S first', () => {
    const s = () => useStore.getState();
    const run = (id: string, adapted?: number): RunRecord => ({
      id, name: `run ${id}`, spec: spec('bdl', {}), steps: 1, history: [], notes: [], labelSources: {}, pairNames: [], models: ['fusion'],
      createdAt: 0, seconds: 0, backend: 'wasm', stopped: false, origin: 'trained', scores: {},
      ...(adapted ? { adaptedS: { steps: adapted, pairNames: ['a'], seconds: 1, createdAt: 1 } } : {}),
    });
    s().putRun(run('a', 100));
    s().putRun(run('b'));
    s().putMethod({ id: 'peer-x', kind: 'peer', peer: 'x', name: 'X, published weights', citation: '', macs640: 1, load: 'loaded' });
    s().setLab({ compareIds: ['a', 'b', 'peer-x', 'gone'] });
    expect(comparedEntries(s()).map((e) => e.id)).toEqual(['a', adaptedId('a'), 'b', 'peer-x']);
    expect(comparedEntry(s(), adaptedId('a'))).toEqual({ id: 'a@S', name: 'run a · S adapted (K 100)', strategy: 'bdl, S adapted' });
    expect(comparedEntry(s(), 'peer-x')?.strategy).toBe('published');
    s().setLab({ pretrainedAdapted: { steps: 5, pairNames: [], seconds: 0, createdAt: 0 } });
    expect(comparedEntries(s())[0]).toEqual({ id: 'pretrained@S', name: 'pretrained F · S adapted (K 5)', strategy: '-, S adapted' });
    expect(adaptedBase('pretrained@S')).toBe('pretrained');
    expect(adaptedBase('a')).toBeNull();
    // A run removed takes its adapted scoring with it.
    s().removeRun('a');
    expect(comparedEntries(s()).map((e) => e.id)).toEqual(['pretrained@S', 'b', 'peer-x']);
  });
});
