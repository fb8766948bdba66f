/**
 * The shared shape of every network in the project: named parameters plus pure functions.
 * Any strategy can then take gradients with respect to any subset of a model's variables.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params, ParamSpec } from '../types';

/**
 * A model as named parameters and functions over them.
 * @typeParam Out what `apply` returns (a tensor, or an object of tensors).
 */
export interface ModelDef<Out> {
  /** Registry name, e.g. 'fusion'. Also the folder name under `models/`. */
  name: string;
  /**
   * New trainable variables, initialised from `seed` (deterministic on every backend).
   * The caller owns them.
   */
  init(seed: number): Params;
  /**
   * Forward pass. `x` is NHWC float32; its H and W must be multiples of `stride` (pad with
   * `image/pad.ts`). Intermediates are freed; the returned tensors belong to the caller.
   * @throws if a parameter is missing or the input shape does not fit.
   */
  apply(params: Params, x: tf.Tensor4D): Out;
  /** Input H and W must be multiples of this (the total downsampling of the network). */
  stride: number;
  /** Exact multiply-adds of all convolutions for one `h`×`w` input (batch 1). */
  macs(h: number, w: number): number;
  /** Number of scalar parameters in `params`. */
  paramCount(params: Params): number;
}

/** Number of scalars in a parameter set. */
export function countParams(params: Params): number {
  let n = 0;
  for (const v of Object.values(params)) n += v.size;
  return n;
}

/** Names and shapes of a parameter set, sorted by name (as weight manifests list them). */
export function paramSpecs(params: Params): ParamSpec[] {
  return Object.keys(params).sort().map((name) => ({ name, shape: params[name].shape.slice() }));
}

/**
 * The parameter names and shapes a model expects, from a throw-away init.
 * (Cheap: the models are small. The variables are disposed before returning.)
 */
export function expectedParamSpecs(model: ModelDef<unknown>): ParamSpec[] {
  const params = model.init(0);
  const specs = paramSpecs(params);
  disposeParams(params);
  return specs;
}

/**
 * Checks that `params` has exactly the names and shapes of `expected`.
 * @returns a list of human-readable problems; empty when they match.
 */
export function paramProblems(params: Params, expected: ParamSpec[]): string[] {
  const problems: string[] = [];
  const want = new Map(expected.map((s) => [s.name, s.shape]));
  for (const [name, shape] of want) {
    const got = params[name];
    if (!got) problems.push(`missing parameter '${name}' [${shape.join(',')}]`);
    else if (got.shape.length !== shape.length || got.shape.some((d, i) => d !== shape[i])) {
      problems.push(`parameter '${name}' has shape [${got.shape.join(',')}], expected [${shape.join(',')}]`);
    }
  }
  for (const name of Object.keys(params)) {
    if (!want.has(name)) problems.push(`unexpected parameter '${name}'`);
  }
  return problems;
}

/**
 * Throws if `params` does not have exactly the model's parameter names and shapes.
 * @throws listing every mismatch.
 */
export function checkParams(model: ModelDef<unknown>, params: Params): void {
  const problems = paramProblems(params, expectedParamSpecs(model));
  if (problems.length > 0) throw new Error(`${model.name}: ${problems.join('; ')}`);
}

/**
 * Throws unless `x` is [B,H,W,channels] with H and W multiples of `stride`.
 * @throws naming the model, the shape it got and what it needs.
 */
export function checkInput(model: string, x: tf.Tensor, channels: number, stride: number): void {
  if (x.rank !== 4 || x.shape[3] !== channels) {
    throw new Error(`${model}: input must be [B,H,W,${channels}], got [${x.shape.join(',')}]`);
  }
  const [, h, w] = x.shape;
  if (h % stride !== 0 || w % stride !== 0) {
    throw new Error(`${model}: input height and width must be multiples of ${stride}, got ${h}x${w} (pad first)`);
  }
}

/** Disposes every variable of a parameter set. */
export function disposeParams(params: Params): void {
  for (const v of Object.values(params)) v.dispose();
}
