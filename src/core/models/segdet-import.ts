/**
 * S's initial weights from the COCO-pretrained MobileNetV3 CenterNet graph that
 * `@vladmandic/human` ships (`models/centernet.json` + `.bin`): maps the graph's weight names
 * onto S's named parameters (the table in `segdet.ts` names each layer's source).
 *
 * Pure: takes the graph's decoded weights, returns new variables. Reading the package's files
 * is the CLI's job (`cli/import-centernet.ts`), at training time only; nothing from the package
 * is loaded when the app or the CLI runs S.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { COCO_CLASSES_KEPT, SEGDET_LAYERS, layerKernelShape, segdet } from './segdet';
import { makeVariable } from '../nn/layers';

/**
 * Builds S's parameters from the graph's weights. Layers without a source (the segmentation
 * head) keep the seeded init of `segdet.init(seed)`.
 * @param graphWeights the graph's weights by name (float32, e.g. from `tf.io.decodeWeights`).
 * @throws naming every missing or mis-shaped source weight.
 */
export function segdetFromCenternet(graphWeights: Record<string, tf.Tensor>, seed = 0): Params {
  const params = segdet.init(seed);
  const problems: string[] = [];
  const values = new Map<string, tf.Tensor>();
  tf.tidy(() => {
    for (const l of SEGDET_LAYERS) {
      if (!l.src) continue;
      const get = (name: string, shape: number[], what: string, fix: (t: tf.Tensor) => tf.Tensor) => {
        const t = graphWeights[name];
        if (!t) { problems.push(`missing ${what} '${name}' for ${l.name}`); return; }
        const v = fix(t);
        if (v.shape.join(',') !== shape.join(',')) {
          problems.push(`${name}: shape [${t.shape}] does not give ${l.name}'s [${shape}]`);
          return;
        }
        values.set(`${l.name}/${what}`, tf.keep(v));
      };
      // The class head keeps person, bicycle, car of COCO's 80 classes.
      const pick = (t: tf.Tensor, axis: number) => (l.name === 'cls/pw' ? tf.gather(t, [...COCO_CLASSES_KEPT], axis) : t);
      get(l.src.kernel, layerKernelShape(l), 'kernel', (t) => pick(t, 3));
      if (l.bias && l.src.bias) get(l.src.bias, [l.cout], 'bias', (t) => pick(t, 0));
      else if (l.bias) problems.push(`${l.name} has a bias but no source for it`);
    }
  });
  if (problems.length > 0) {
    tf.dispose([...values.values()]);
    for (const v of Object.values(params)) v.dispose();
    throw new Error(`segdet import: ${problems.join('; ')}`);
  }
  for (const [name, v] of values) {
    params[name].dispose();
    params[name] = makeVariable(v.dataSync() as Float32Array, v.shape);
    v.dispose();
  }
  return params;
}
