/**
 * A shared run file is untrusted input: whatever its bytes or its fields, decoding gives a
 * record that passes the schema, or a RunFileError with a sentence — never another error, and
 * never a record the page cannot render.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRunRecord, RunFileError } from '../core/runs/record';
import { decodeRunFile, encodeRunFile } from './run-file';
import type { RunRecord } from './store/lab';

const metrics = { EN: 6.6, SD: 40, SF: 10, AG: 3, MI: 4, SCD: 1.6, VIF: 1.1, Qabf: 0.7, SSIM: 0.97 };
const run: RunRecord = {
  id: 'run-1', name: 'td ±', spec: { strategy: 'td', options: { xi: 0.01, mode: 'a', on: true, lr: 1e-4 }, steps: 2, batch: 1, crop: 64, seed: 3, heldOutFraction: 0.2 }, steps: 2,
  history: [{ step: 1, total: 0.5, terms: { fusion: 0.5 } }, { step: 2, total: 0.4, terms: { fusion: 0.4 }, stats: { eps: 1e-3 } }],
  notes: ['n'], labelSources: { a: 'label' }, pairNames: ['a'], models: ['fusion'], createdAt: 1, seconds: 2, backend: 'wasm',
  stopped: false, origin: 'trained', scores: { a: { metrics, miou: 0.5 } },
};
const weights = { fusion: { modelJson: { weightsManifest: [] }, weightData: new Uint8Array([1, 2, 3, 4]).buffer } };
const valid = encodeRunFile(run, weights);

/** Decoding either succeeds with a record that passes the schema again, or says why in a RunFileError. */
function decodesOrExplains(bytes: Uint8Array): void {
  try {
    const back = decodeRunFile(bytes);
    expect(parseRunRecord(back.run)).toEqual(back.run);
  } catch (e) {
    if (!(e instanceof RunFileError)) throw e;
    expect(e.message.length).toBeGreaterThan(5);
  }
}

describe('decodeRunFile under fuzzing', () => {
  it('random byte changes: a valid record or a RunFileError', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat({ max: valid.byteLength - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.nat({ max: valid.byteLength }),
      (edits, cut) => {
        const bytes = valid.slice(0, Math.max(cut, 12));
        for (const [at, b] of edits) if (at < bytes.byteLength) bytes[at] = b;
        decodesOrExplains(bytes);
      },
    ), { numRuns: 2000 });
  });

  const fields = Object.keys(run) as (keyof RunRecord)[];
  it('random values in the record\'s fields: a valid record or a RunFileError naming the field', () => {
    fc.assert(fc.property(
      fc.constantFrom(...fields), fc.anything({ withNullPrototype: true, withBigInt: false, maxDepth: 3 }),
      (field, value) => {
        const bad = { ...run, [field]: value };
        let json: string;
        try {
          json = JSON.stringify(bad);
        } catch {
          return;
        }
        if (json === undefined) return;
        try {
          const parsed = parseRunRecord(JSON.parse(json));
          expect(parseRunRecord(parsed)).toEqual(parsed);
        } catch (e) {
          if (!(e instanceof RunFileError)) throw e;
          expect(e.message).toContain(`run.${field}`);
        }
      },
    ), { numRuns: 3000 });
  });

  it('random values deep in the history and scores', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), (h, sc) => {
      try {
        parseRunRecord({ ...run, history: [run.history[0], h], scores: { a: sc } });
      } catch (e) {
        if (!(e instanceof RunFileError)) throw e;
        expect(e.message).toMatch(/^run\.(history|scores)/);
      }
    }), { numRuns: 2000 });
  });
});
