import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { useBackend } from '../../cli/node-backend';
import { centernetWeights, readCenternetPackage } from '../../cli/centernet-package';
import { readImage } from '../../cli/image-io';
import { resizeImage } from '../image/resize';
import { BOX_UNIT, decodeDetections } from '../detect/centernet';
import { iou } from '../detect/boxes';
import { Rng } from '../nn/random';
import { HEAT_BIAS_INIT, SEGDET_LAYERS, segdet, segdetFanIn, segdetParamNames } from './segdet';
import { segdetFromCenternet } from './segdet-import';
import { disposeParams } from './model-def';
import { outputTensors, probeLossHost, probeWeights, randomInput, randomiseParams } from './model-test-utils';

const FIXTURE = 'test-fixtures/pairs/vi/00200D.png';

describe('segdet (S)', () => {
  beforeAll(async () => { await useBackend('cpu'); });
  afterAll(async () => { await useBackend('cpu'); });

  it('starts a fresh class head at the CenterNet prior', () => {
    const params = segdet.init(1);
    expect(Array.from(params['cls/pw/bias'].dataSync()).map((v) => Math.round(v * 100) / 100))
      .toEqual([HEAT_BIAS_INIT, HEAT_BIAS_INIT, HEAT_BIAS_INIT]);
    disposeParams(params);
  });

  it('names every imported layer\'s source and splits its parameters into parts', () => {
    const imported = SEGDET_LAYERS.filter((l) => l.src);
    expect(imported.every((l) => l.part !== 'seg')).toBe(true);
    expect(SEGDET_LAYERS.filter((l) => !l.src).every((l) => l.part === 'seg')).toBe(true);
    const all = segdetParamNames(['backbone', 'decoder', 'det', 'seg']);
    const params = segdet.init(0);
    expect(all.sort()).toEqual(Object.keys(params).sort());
    disposeParams(params);
  });

  it('has input gradients equal to central finite differences (the task loss reaches F through them)', () => {
    // Randomised biases: at init many pre-activations are exactly 0 (zero biases on zero
    // neighbourhoods), relu kinks that finite differences straddle.
    const p = segdet.init(11);
    randomiseParams(p, 5, segdetFanIn);
    const x = randomInput([1, 32, 32, 3], 2);
    const rs = probeWeights(segdet, p, x, 3);
    const g = tf.grad((xx: tf.Tensor) => {
      const outs = outputTensors(segdet.apply(p, xx as tf.Tensor4D));
      return tf.addN(outs.map((t, i) => tf.sum(tf.mul(t, tf.tensor(rs[i], t.shape)))));
    })(x);
    // Along the gradient itself (the direction with the most signal) and along the gradient
    // with a random half of the pixels masked out (checks the gradient's spatial layout too).
    const mask = tf.tensor(new Rng(7).uniformArray(x.size).map((v) => (v < 0.5 ? 0 : 1)), x.shape);
    const masked = tf.mul(g, mask);
    for (const dir of [g, masked]) {
      const d = tf.div(dir, tf.norm(dir)) as tf.Tensor4D;
      const analytic = tf.sum(tf.mul(g, d)).dataSync()[0];
      const numerics = [5e-5, 1e-4, 2e-4].map((eps) => {
        const plus = tf.add(x, tf.mul(d, eps)) as tf.Tensor4D;
        const minus = tf.sub(x, tf.mul(d, eps)) as tf.Tensor4D;
        const v = (probeLossHost(segdet, p, plus, rs) - probeLossHost(segdet, p, minus, rs)) / (2 * eps);
        tf.dispose([plus, minus]);
        return v;
      });
      const numeric = numerics.sort((a, b) => a - b)[1];
      expect(Math.abs(analytic)).toBeGreaterThan(1e-2);
      expect(Math.abs(analytic - numeric), `${analytic} vs ${numeric}`).toBeLessThan(0.02 * Math.abs(analytic));
      d.dispose();
    }
    tf.dispose([mask, masked]);
    tf.dispose([x, g]);
    disposeParams(p);
  });

  it('imported from @vladmandic/human, reproduces the CenterNet graph\'s heat maps and boxes at 512×512', async () => {
    await useBackend('wasm');
    const pkg = readCenternetPackage();
    const graph = await loadGraphModel(tf.io.fromMemory({
      modelTopology: pkg.modelJson.modelTopology as object,
      weightSpecs: pkg.modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: pkg.weightData,
    }));
    const weights = centernetWeights(pkg);
    const params = segdetFromCenternet(weights);
    tf.dispose(Object.values(weights));
    // A real scene (an MSRS visible image, resized as the issue measured the graph), 0–255.
    const img = resizeImage(await readImage(FIXTURE), 512, 512);
    const rgb = new Float32Array(512 * 512 * 3);
    for (let i = 0; i < 512 * 512; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = img.data[i * img.channels + c];
    const x255 = tf.tensor4d(rgb, [1, 512, 512, 3]);
    const [keypoints, wh, detections] = graph.execute(x255, ['tower_0/keypoints', 'tower_0/wh', 'tower_0/detections']) as tf.Tensor[];
    const x = tf.div(x255, 255) as tf.Tensor4D;
    const out = segdet.apply(params, x);
    expect(out.seg.shape).toEqual([1, 512, 512, 9]);
    const heatErr = tf.tidy(() => tf.max(tf.abs(tf.sub(
      tf.sigmoid(tf.slice(out.det, [0, 0, 0, 0], [1, 128, 128, 3])), tf.slice(keypoints, [0, 0, 0, 0], [1, 128, 128, 3]),
    ))).dataSync()[0]);
    const boxErr = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.mul(tf.slice(out.det, [0, 0, 0, 3], [1, 128, 128, 4]), BOX_UNIT), wh))).dataSync()[0]);
    const boxMax = tf.tidy(() => tf.max(tf.abs(wh)).dataSync()[0]);
    expect(heatErr).toBeLessThan(1e-3);
    expect(boxErr / boxMax).toBeLessThan(1e-3);
    // Decoded boxes: every graph detection of person/bicycle/car above 0.2 is ours too.
    const ours = await decodeDetections(out.det, { scoreThreshold: 0.1, nmsIoU: 1, inputHeight: 512, inputWidth: 512 });
    const theirs = (await detections.array() as number[][][])[0].filter((d) => d[5] <= 2 && d[4] >= 0.2);
    expect(theirs.length).toBeGreaterThan(1); // the scene has cars and people
    for (const d of theirs) {
      const clipped: [number, number, number, number] = [Math.max(d[0], 0), Math.max(d[1], 0), Math.min(d[2], 512), Math.min(d[3], 512)];
      const match = ours.find((o) => o[4] === d[5] && Math.abs(o[5] - d[4]) < 1e-3 && iou(o, clipped) > 0.999);
      expect(match, `graph box ${d.map((v) => v.toFixed(1)).join(',')}`).toBeDefined();
    }
    tf.dispose([x255, x, keypoints, wh, detections, out.seg, out.det]);
    disposeParams(params);
    graph.dispose();
  }, 60_000);
});
