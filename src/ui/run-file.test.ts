import { describe, expect, it } from 'vitest';
import { decodeRunFile, encodeRunFile, isRunFile, RunFileError } from './run-file';
import type { RunRecord } from './store/lab';

const run: RunRecord = {
  id: 'run-1', name: 'td ±', strategy: 'td', options: { xi: 0.01 }, seed: 3, steps: 2, batch: 1, crop: 64, lr: 1e-4,
  history: [{ step: 1, total: 0.5, terms: { fusion: 0.5 }, ms: 10 } as never], notes: ['n'], labelSources: {}, pairNames: ['a'],
  models: ['fusion', 'lossGenerator'], createdAt: 1, seconds: 2, backend: 'wasm', stopped: false, origin: 'trained',
  scores: { a: { metrics: { EN: 1 } as never, miou: 0.5 } },
};
const bytes = (n: number, k: number) => Uint8Array.from({ length: n }, (_, i) => (i * k) & 255).buffer;
const weights = {
  fusion: { modelJson: { format: 'layers-model', weightsManifest: [{ paths: ['f.bin'], weights: [] }] }, weightData: bytes(40, 3) },
  lossGenerator: { modelJson: { weightsManifest: [] }, weightData: bytes(12, 7) },
};

describe('run file', () => {
  it('round-trips the run record and every model\'s weights byte for byte', () => {
    const file = encodeRunFile(run, weights);
    expect(isRunFile(file)).toBe(true);
    const back = decodeRunFile(file);
    expect(back.run).toEqual(run);
    expect(Object.keys(back.weights)).toEqual(['fusion', 'lossGenerator']);
    expect(back.weights.fusion!.modelJson).toEqual(weights.fusion.modelJson);
    expect(new Uint8Array(back.weights.fusion!.weightData)).toEqual(new Uint8Array(weights.fusion.weightData));
    expect(new Uint8Array(back.weights.lossGenerator!.weightData)).toEqual(new Uint8Array(weights.lossGenerator.weightData));
  });

  it('says what is wrong with a file that is not one, or is cut short', () => {
    const file = encodeRunFile(run, weights);
    expect(() => decodeRunFile(new TextEncoder().encode('{"weightsManifest": []}'))).toThrow(RunFileError);
    expect(() => decodeRunFile(file.slice(0, 20))).toThrow('cut short (header)');
    expect(() => decodeRunFile(file.slice(0, file.byteLength - 5))).toThrow('the weights of lossGenerator are cut short');
    expect(() => decodeRunFile(encodeRunFile(run, { lossGenerator: weights.lossGenerator }))).toThrow('no fusion (F) weights');
  });
});
