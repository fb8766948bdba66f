import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { useBackend } from './node-backend';
import { centernetWeights, readCenternetPackage } from './centernet-package';
import { readImage } from './image-io';
import { resizeImage } from '../core/image/resize';
import { BOX_UNIT, decodeDetections } from '../core/detect/centernet';
import { iou } from '../core/detect/boxes';
import { segdet } from '../core/models/segdet';
import { segdetFromCenternet } from '../core/models/segdet-import';
import { disposeParams } from '../core/models/model-def';

const FIXTURE = 'test-fixtures/pairs/vi/00200D.png';

describe('S v2 import from the COCO CenterNet (reads the devDependency at test time)', () => {
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
