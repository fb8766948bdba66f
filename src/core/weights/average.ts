/**
 * Weight averaging ("model soup", Wortsman et al., ICML 2022): the element-wise mean of several
 * fine-tunes of one model that all started from the same weights. Runs from a shared start stay
 * in one basin of the loss, so their mean is usually at least as good as each, without the cost
 * of running them all as an ensemble.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addMany } from '../nn/add-many';
import { WeightsError } from './io';

/**
 * The element-wise mean of parameter sets with the same names and shapes.
 * @returns new tensors (the caller disposes them); the inputs are left as they are.
 * @throws WeightsError listing every name or shape that differs between the sets.
 */
export function averageParams(sets: readonly Record<string, tf.Tensor>[]): Record<string, tf.Tensor> {
  if (sets.length === 0) throw new WeightsError('nothing to average: no parameter sets given');
  const names = Object.keys(sets[0]);
  const problems: string[] = [];
  sets.forEach((set, i) => {
    for (const name of names) {
      const t = set[name];
      if (!t) problems.push(`set ${i + 1}: no parameter '${name}'`);
      else if (!tf.util.arraysEqual(t.shape, sets[0][name].shape)) {
        problems.push(`set ${i + 1}: '${name}' has shape [${t.shape}], set 1 has [${sets[0][name].shape}]`);
      }
    }
    for (const name of Object.keys(set)) if (!(name in sets[0])) problems.push(`set ${i + 1}: parameter '${name}' is not in set 1`);
  });
  if (problems.length > 0) throw new WeightsError(problems);
  return Object.fromEntries(names.map((name) => [name, tf.tidy(() => tf.div(addMany(sets.map((s) => s[name])), sets.length))]));
}
