import { describe, expect, it } from 'vitest';
import { checkRunFileSize, decodeRunFile, encodeRunFile, isRunFile, RUN_HEADER_MAX_BYTES, RunFileError } from './run-file';
import type { RunRecord } from './store/lab';

const run: RunRecord = {
  id: 'run-1', name: 'td ±', spec: { strategy: 'td', options: { xi: 0.01, lr: 1e-4 }, steps: 2, batch: 1, crop: 64, seed: 3, heldOutFraction: 0.2 }, steps: 2,
  history: [{ step: 1, total: 0.5, terms: { fusion: 0.5 } }], notes: ['n'], labelSources: {}, pairNames: ['a'],
  models: ['fusion', 'lossGenerator'], createdAt: 1, seconds: 2, backend: 'wasm', stopped: false, origin: 'trained',
  scores: { a: { metrics: { EN: 6.6, SD: 40, SF: 10, AG: 3, MI: 4, SCD: NaN, VIF: 1.1, Qabf: 0.7, SSIM: 0.97 }, miou: 0.5, undefinedMetrics: { SCD: 'constant infrared image' } } },
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

  it('refuses a wrong-typed weight entry, and a file or header over its bound before parsing it', () => {
    const withHeader = (header: unknown, pad = 0) => {
      const h = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(7 + 4 + h.byteLength + pad);
      out.set(new TextEncoder().encode('FPRUN1\n'));
      new DataView(out.buffer).setUint32(7, h.byteLength + pad, true);
      out.set(h, 11);
      return out;
    };
    const header = { format: 'fusion-playground-run', version: 1, run };
    expect(() => decodeRunFile(withHeader({ ...header, models: { fusion: null } }))).toThrow('models.fusion: expected { modelJson, offset, length } (got null)');
    expect(() => decodeRunFile(withHeader({ ...header, models: { fusion: { modelJson: {}, offset: '0', length: 0 } } })))
      .toThrow('models.fusion.offset: expected a number (got "0")');
    expect(() => decodeRunFile(withHeader({ ...header, models: { extra: {} } }))).toThrow(/^models\.extra: /);
    expect(() => decodeRunFile(withHeader(header, RUN_HEADER_MAX_BYTES))).toThrow(/its header is 8 MB, over the 8 MB/);
    expect(() => checkRunFileSize(254 * 2 ** 20)).toThrow('the file is 254 MB, over the 64 MB a run file may be');
  });

  it('reads a run file written before runs kept a spec: the flat settings become one', () => {
    const { spec, steps, ...rest } = run;
    const flat = { ...rest, strategy: spec.strategy, options: { xi: 0.01, lr: 1e-4, clipNorm: 5, totalSteps: 2 }, steps, batch: 1, crop: 64, lr: 1e-4, seed: 3 };
    const back = decodeRunFile(encodeRunFile(flat as never, weights)).run;
    expect(back.spec).toEqual({ strategy: 'td', options: { xi: 0.01, lr: 1e-4, clipNorm: 5 }, steps: 2, batch: 1, crop: 64, seed: 3, heldOutFraction: 0.2 });
    expect(back.steps).toBe(2);
  });
});
