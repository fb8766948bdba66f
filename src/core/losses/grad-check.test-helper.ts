/**
 * Test helpers (not a test file): run a scalar loss on a chosen backend and compare its
 * analytic gradients with central finite differences and with another backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { expect } from 'vitest';
import { useBackend } from '../testing';

/** A plain input: data and shape; the tensor is created on the active backend. */
export interface Input {
  data: Float32Array | Int32Array;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

export type LossFn = (...xs: tf.Tensor[]) => tf.Scalar;

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function uniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export function input(data: Float32Array | Int32Array | number[], shape: number[], dtype: 'float32' | 'int32' = 'float32'): Input {
  return { data: data instanceof Float32Array || data instanceof Int32Array ? data : (dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data)), shape, dtype };
}

function make(inputs: Input[]): tf.Tensor[] {
  return inputs.map((x) => tf.tensor(x.data, x.shape, x.dtype ?? 'float32'));
}

/** Loss value and gradients w.r.t. the inputs listed in `wrt`, on `backend`; fails if tensors leak. */
export async function lossAndGrads(
  backend: 'cpu' | 'wasm', f: LossFn, inputs: Input[], wrt: number[],
): Promise<{ loss: number; grads: Float32Array[] }> {
  await useBackend(backend);
  const xs = make(inputs);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.valueAndGrads((...ws: tf.Tensor[]) => {
    const all = xs.slice();
    wrt.forEach((k, i) => { all[k] = ws[i]; });
    return f(...all);
  })(wrt.map((k) => xs[k]));
  const loss = (await value.data())[0];
  const out = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
  tf.dispose([value, ...grads]);
  // Nothing but the value and the gradients may survive a gradient computation.
  expect(tf.memory().numTensors, `tensors leaked by the loss or its gradient on ${backend}`).toBe(before);
  tf.dispose(xs);
  return { loss, grads: out };
}

/** Loss value on `backend`. */
export async function lossValue(backend: 'cpu' | 'wasm', f: LossFn, inputs: Input[]): Promise<number> {
  await useBackend(backend);
  const xs = make(inputs);
  const v = f(...xs);
  const r = (await v.data())[0];
  tf.dispose([v, ...xs]);
  return r;
}

/**
 * Checks the gradient w.r.t. each input in `wrt` against a central finite difference of the
 * loss along directions v (CPU backend, float32): `<g, v>` vs `(L(x + εv) − L(x − εv)) / 2ε`.
 * Direction 0 is `sign(g)·|r|` (r random), so every component adds to the signal and a wrong
 * sign or scale anywhere shows; the others are random ±. The tolerance adds the float32
 * round-off of L amplified by 1/ε. Directional checks also dilute the rare kink (|·|, max)
 * crossed by a perturbation, which breaks element-wise checks of piecewise-smooth losses;
 * use a small ε (1e-4) for those.
 */
export async function expectGradMatchesFD(
  f: LossFn, inputs: Input[], wrt: number[], opts: { eps?: number; rtol?: number; directions?: number } = {},
): Promise<void> {
  const eps = opts.eps ?? 1e-3, rtol = opts.rtol ?? 1e-2;
  const { loss, grads } = await lossAndGrads('cpu', f, inputs, wrt);
  const roundoff = (16 * Math.max(Math.abs(loss), 1e-3) * 2 ** -23) / eps;
  for (let gi = 0; gi < wrt.length; gi++) {
    const k = wrt[gi];
    for (let d = 0; d < (opts.directions ?? 2); d++) {
      const n = inputs[k].data.length;
      const v = uniform(n, 1000 * k + d + 7, -1, 1);
      if (d === 0) for (let i = 0; i < n; i++) v[i] = Math.abs(v[i]) * Math.sign(grads[gi][i]);
      let analytic = 0;
      for (let i = 0; i < n; i++) analytic += grads[gi][i] * v[i];
      const shifted = (s: number): Input[] => inputs.map((x, j) => {
        if (j !== k) return x;
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = x.data[i] + s * eps * v[i];
        return { ...x, data };
      });
      const lp = await lossValue('cpu', f, shifted(1));
      const lm = await lossValue('cpu', f, shifted(-1));
      const numeric = (lp - lm) / (2 * eps);
      expect(Math.abs(analytic - numeric), `input ${k} dir ${d}: analytic ${analytic} vs FD ${numeric}`)
        .toBeLessThanOrEqual(1e-6 + roundoff + rtol * Math.max(Math.abs(analytic), Math.abs(numeric)));
    }
  }
}

/** Loss and gradients agree between the WASM and CPU backends. */
export async function expectBackendsAgree(
  f: LossFn, inputs: Input[], wrt: number[], rtol = 1e-4,
): Promise<void> {
  const a = await lossAndGrads('cpu', f, inputs, wrt);
  const b = await lossAndGrads('wasm', f, inputs, wrt);
  expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-6 + rtol * Math.abs(a.loss));
  for (let g = 0; g < a.grads.length; g++) {
    let maxAbs = 0, maxDiff = 0;
    for (let i = 0; i < a.grads[g].length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a.grads[g][i]));
      maxDiff = Math.max(maxDiff, Math.abs(a.grads[g][i] - b.grads[g][i]));
    }
    expect(maxDiff, `grad ${g}: max diff ${maxDiff} (max |g| ${maxAbs})`).toBeLessThanOrEqual(1e-7 + rtol * maxAbs);
  }
}

/** Runs `fn` (returning tensors owned by the caller), disposes its result, and checks that no tensor leaked. */
export function expectNoLeak(fn: () => tf.TensorContainer): void {
  const before = tf.memory().numTensors;
  const out = fn();
  tf.dispose(out);
  expect(tf.memory().numTensors).toBe(before);
}
