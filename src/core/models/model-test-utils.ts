/**
 * Checks shared by the model tests (and usable by later model code): output flattening,
 * gradient vs finite differences, and backend comparison. No test framework imports here,
 * so the functions return numbers and the tests assert.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { Rng, deriveSeed } from '../nn/random';
import type { ModelDef } from './model-def';

/** The tensors of a model output, in a fixed order (object outputs by sorted key). */
export function outputTensors(out: unknown): tf.Tensor[] {
  if (out instanceof tf.Tensor) return [out];
  if (out && typeof out === 'object') {
    const o = out as Record<string, unknown>;
    return Object.keys(o).sort().flatMap((k) => outputTensors(o[k]));
  }
  throw new Error('model output holds no tensors');
}

/** Uniform [0,1) input of the given shape. The caller owns it. */
export function randomInput(shape: number[], seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(rng.uniformArray(n), shape as [number, number, number, number]);
}

/**
 * Re-draws every parameter (kernels He-normal over their fan-in, vectors N(0, 0.1²) around their
 * current value), so that no layer starts near zero and every gradient carries signal. A model
 * whose fan-in is not k²·C_in (a scaled input, say) gives it with `fanInOf` (undefined: k²·C_in).
 */
export function randomiseParams(params: Params, seed: number, fanInOf?: (name: string) => number | undefined): void {
  for (const name of Object.keys(params).sort()) {
    const v = params[name];
    const rng = new Rng(deriveSeed(seed, name));
    if (v.rank === 4) {
      const [kh, kw, cin] = v.shape as number[];
      const fanIn = fanInOf?.(name) ?? kh * kw * cin;
      tf.tidy(() => v.assign(tf.tensor(rng.normalArray(v.size, 0, Math.sqrt(2 / fanIn)), v.shape)));
    } else {
      const cur = v.dataSync();
      const next = new Float32Array(v.size);
      for (let i = 0; i < v.size; i++) next[i] = cur[i] + rng.normal(0, 0.1);
      tf.tidy(() => v.assign(tf.tensor(next, v.shape)));
    }
  }
}

/** Fixed random weights for a scalar probe loss: one array per output tensor. */
export function probeWeights(model: ModelDef<unknown>, params: Params, x: tf.Tensor4D, seed: number): Float32Array[] {
  // Sizes are read inside tidy, the arrays built outside: tidy must not walk typed arrays.
  const sizes = tf.tidy(() => outputTensors(model.apply(params, x)).map((t) => t.size));
  return sizes.map((n, i) => new Rng(seed + i).normalArray(n));
}

/** L = Σ_outputs Σ r ⊙ out, summed in float64 on the host (for finite differences). */
export function probeLossHost(model: ModelDef<unknown>, params: Params, x: tf.Tensor4D, rs: Float32Array[]): number {
  const outs = outputTensors(model.apply(params, x));
  let s = 0;
  outs.forEach((t, i) => {
    const d = t.dataSync();
    for (let j = 0; j < d.length; j++) s += d[j] * rs[i][j];
  });
  tf.dispose(outs);
  return s;
}

/** Gradients of the probe loss with respect to the named parameters, as host arrays. */
export function probeGrads(
  model: ModelDef<unknown>, params: Params, x: tf.Tensor4D, rs: Float32Array[], names: string[],
): { loss: number; outputs: Float32Array[]; grads: Record<string, Float32Array> } {
  const outputs: Float32Array[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const outs = outputTensors(model.apply(params, x));
    outs.forEach((t) => outputs.push(t.dataSync() as Float32Array));
    return tf.addN(outs.map((t, i) => tf.sum(tf.mul(t, tf.tensor(rs[i], t.shape))))) as tf.Scalar;
  }, names.map((n) => params[n]));
  const out: Record<string, Float32Array> = {};
  names.forEach((n) => { out[n] = grads[params[n].name].dataSync() as Float32Array; });
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, outputs, grads: out };
}

/**
 * Directional derivative check: for a random unit direction v over parameter `name`,
 * compares <∇L, v> with (L(θ + εv) − L(θ − εv)) / 2ε.
 * @returns the analytic and numeric values.
 */
export function directionalCheck(
  model: ModelDef<unknown>, params: Params, x: tf.Tensor4D, rs: Float32Array[],
  name: string, grad: Float32Array, eps: number, seed: number,
): { analytic: number; numeric: number } {
  const p = params[name];
  const rng = new Rng(seed);
  const dir = rng.normalArray(p.size);
  let norm = 0;
  for (const d of dir) norm += d * d;
  norm = Math.sqrt(norm);
  for (let i = 0; i < dir.length; i++) dir[i] /= norm;
  let analytic = 0;
  for (let i = 0; i < dir.length; i++) analytic += grad[i] * dir[i];
  const base = p.dataSync().slice();
  const shifted = (sign: number) => {
    const v = new Float32Array(base.length);
    for (let i = 0; i < v.length; i++) v[i] = base[i] + sign * eps * dir[i];
    tf.tidy(() => p.assign(tf.tensor(v, p.shape)));
    return probeLossHost(model, params, x, rs);
  };
  const numeric = (shifted(1) - shifted(-1)) / (2 * eps);
  tf.tidy(() => p.assign(tf.tensor(base, p.shape)));
  return { analytic, numeric };
}

/** max |a − b| / max |b| over all arrays (0 when both are zero). */
export function maxRelErr(a: Float32Array[], b: Float32Array[]): number {
  let num = 0;
  let den = 0;
  a.forEach((ai, k) => {
    for (let i = 0; i < ai.length; i++) {
      num = Math.max(num, Math.abs(ai[i] - b[k][i]));
      den = Math.max(den, Math.abs(b[k][i]));
    }
  });
  return den === 0 ? num : num / den;
}
