import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import type { Params } from '../types';
import {
  WeightsError, decodeWeights, encodeWeights, float16BitsToFloat32, float32ToFloat16Bits,
  loadParamsInto, loadWeightsInto, paramSpecs,
} from './io';

beforeAll(() => useBackend('cpu'));

function makeParams(seed: number): Params {
  return {
    'enc1/conv/kernel': tf.variable(tf.randomNormal([3, 3, 2, 16], 0, 0.5, 'float32', seed)),
    'enc1/conv/bias': tf.variable(tf.randomNormal([16], 0, 0.1, 'float32', seed + 1)),
    'head/kernel': tf.variable(tf.randomNormal([1, 1, 16, 1], 0, 0.5, 'float32', seed + 2)),
  };
}
const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o));
async function snapshot(p: Params) {
  return Object.fromEntries(await Promise.all(Object.entries(p).map(async ([k, v]) => [k, Array.from(await v.data())])));
}
function expectWeightsError(f: () => unknown, re: RegExp) {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(WeightsError);
  expect((err as Error).message).toMatch(re);
}

describe('weights io', () => {
  it('converts float16 like IEEE (round to nearest even, subnormals, overflow)', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 0.333251953125]) {
      expect(float16BitsToFloat32(float32ToFloat16Bits(v))).toBe(v);
    }
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie rounds to even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
  });

  it('round-trips float32 exactly and is readable by tf.io.decodeWeights', async () => {
    const a = makeParams(1);
    const { modelJson, weightData } = await encodeWeights(a, { extra: { model: 'test' } });
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(modelJson.weightsManifest[0].weights[0]).toEqual({ name: 'enc1/conv/kernel', shape: [3, 3, 2, 16], dtype: 'float32' });
    expect(modelJson.userDefinedMetadata).toEqual({ model: 'test' });
    expect(weightData.byteLength).toBe(4 * (288 + 16 + 16));
    const b = makeParams(99);
    loadWeightsInto(b, clone(modelJson), [weightData]);
    expect(await snapshot(b)).toEqual(await snapshot(a));
    const viaTf = tf.io.decodeWeights(weightData, modelJson.weightsManifest[0].weights);
    expect(Array.from(await viaTf['head/kernel'].data())).toEqual(Array.from(await a['head/kernel'].data()));
    tf.dispose([...Object.values(a), ...Object.values(b), ...Object.values(viaTf)]);
  });

  it('round-trips float16 within half precision, in the tfjs quantization convention', async () => {
    const a = makeParams(2);
    const { modelJson, weightData } = await encodeWeights(a, { float16: true });
    expect(modelJson.weightsManifest[0].weights[1]).toEqual({ name: 'enc1/conv/bias', shape: [16], dtype: 'float32', quantization: { dtype: 'float16' } });
    expect(weightData.byteLength).toBe(2 * (288 + 16 + 16));
    const t = decodeWeights(clone(modelJson), [weightData], paramSpecs(a));
    const viaTf = tf.io.decodeWeights(weightData, modelJson.weightsManifest[0].weights);
    for (const k of Object.keys(a)) {
      const want = await a[k].data();
      const got = await t[k].data();
      expect(Array.from(await viaTf[k].data())).toEqual(Array.from(got));
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(Math.abs(want[i]) * 2 ** -11 + 1e-7);
    }
    tf.dispose([...Object.values(a), ...Object.values(t), ...Object.values(viaTf)]);
  });

  it('rejects bad files with a message that says what is wrong, leaving params untouched', async () => {
    const src = makeParams(3);
    const { modelJson, weightData } = await encodeWeights(src);
    const target = makeParams(4);
    const before = await snapshot(target);
    const load = (mj: unknown, shards: ArrayBuffer[]) => () => loadWeightsInto(target, mj, shards);

    expectWeightsError(load(null, [weightData]), /model\.json: not a JSON object/);
    expectWeightsError(load({ format: 'x' }, [weightData]), /no "weightsManifest" array/);
    const noPaths = clone(modelJson) as any; delete noPaths.weightsManifest[0].paths;
    expectWeightsError(load(noPaths, [weightData]), /"paths" must be a non-empty array/);
    const badDtype = clone(modelJson) as any; badDtype.weightsManifest[0].weights[1].dtype = 'int32';
    expectWeightsError(load(badDtype, [weightData]), /enc1\/conv\/bias: dtype "int32" not supported/);
    const badQuant = clone(modelJson) as any; badQuant.weightsManifest[0].weights[1].quantization = { dtype: 'int4' };
    expectWeightsError(load(badQuant, [weightData]), /quantization dtype "int4" not supported/);

    expectWeightsError(load(clone(modelJson), [weightData.slice(0, 1000)]), /^weights\.bin is 1000 bytes, manifest needs 1280 \(truncated\?\)$/);
    const longer = new Uint8Array(1284); longer.set(new Uint8Array(weightData));
    expectWeightsError(load(clone(modelJson), [longer.buffer]), /weights\.bin is 1284 bytes, manifest needs 1280 \(extra bytes\)/);
    expectWeightsError(load(clone(modelJson), []), /manifest lists 1 shard file \(weights\.bin\), got 0/);

    const wrongShape = clone(modelJson) as any;
    wrongShape.weightsManifest[0].weights[0].shape = [3, 3, 2, 8];
    expectWeightsError(load(wrongShape, [weightData.slice(0, 640)]), /enc1\/conv\/kernel: shape \[3,3,2,8\] expected \[3,3,2,16\]/);
    const renamed = clone(modelJson) as any;
    renamed.weightsManifest[0].weights[2].name = 'head/kernal';
    expectWeightsError(load(renamed, [weightData]), /missing weight: head\/kernel.*unknown weight \(not in the model\): head\/kernal/);
    const dup = clone(modelJson) as any;
    dup.weightsManifest[0].weights.push({ ...dup.weightsManifest[0].weights[1] });
    expectWeightsError(load(dup, [longer.slice(0, 1344).buffer]), /enc1\/conv\/bias: listed more than once/);

    const nan = new Float32Array(weightData.slice(0));
    nan[300] = NaN; nan[301] = Infinity;
    expectWeightsError(load(clone(modelJson), [nan.buffer]), /enc1\/conv\/bias: 2 non-finite values \(first NaN at index 12\)/);

    expect(await snapshot(target)).toEqual(before);
    tf.dispose([...Object.values(src), ...Object.values(target)]);
  });

  it('reads weights split across shards and groups', async () => {
    const a = makeParams(5);
    const { modelJson, weightData } = await encodeWeights(a);
    const mj = clone(modelJson);
    const w = mj.weightsManifest[0].weights;
    mj.weightsManifest = [
      { paths: ['g1-a.bin', 'g1-b.bin'], weights: [w[0]] },
      { paths: ['g2.bin'], weights: [w[1], w[2]] },
    ];
    const t = decodeWeights(mj, [weightData.slice(0, 1001), weightData.slice(1001, 1152), weightData.slice(1152)], paramSpecs(a));
    expect(Array.from(await t['head/kernel'].data())).toEqual(Array.from(await a['head/kernel'].data()));
    tf.dispose([...Object.values(a), ...Object.values(t)]);
  });

  it('loadParamsInto assigns all or nothing', async () => {
    const p = makeParams(6);
    const before = await snapshot(p);
    const good = { 'enc1/conv/kernel': tf.ones([3, 3, 2, 16]), 'enc1/conv/bias': tf.ones([16]) };
    expect(() => loadParamsInto(p, { ...good, 'head/kernel': tf.ones([1, 1, 16, 2]) })).toThrow(/head\/kernel: shape \[1,1,16,2\] expected \[1,1,16,1\]/);
    expect(() => loadParamsInto(p, good)).toThrow(/missing weight: head\/kernel/);
    expect(await snapshot(p)).toEqual(before);
    loadParamsInto(p, { ...good, 'head/kernel': tf.ones([1, 1, 16, 1]) });
    expect((await p['head/kernel'].data())[0]).toBe(1);
  });

  it('refuses to save NaN or values beyond float16', async () => {
    const t = { a: tf.tensor1d([1, NaN]), b: tf.tensor1d([1e5]) };
    await expect(encodeWeights({ a: t.a })).rejects.toThrow(/a: 1 non-finite value \(first NaN at index 1\)/);
    await expect(encodeWeights({ b: t.b }, { float16: true })).rejects.toThrow(/b: 1 value exceeds the float16 range/);
    tf.dispose(Object.values(t));
  });
});
