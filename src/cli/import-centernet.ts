/**
 * `npm run import-centernet -- [--out models-coco/segdet] [--seed 1]`
 *
 * Writes S's initial weights: the COCO-pretrained MobileNetV3 CenterNet that the devDependency
 * `@vladmandic/human` ships, copied into S's named parameters (person, bicycle and car of its 80
 * classes), with a fresh, untrained segmentation head. `npm run train -- --stages segdet` does
 * the same import before it trains; this command gives the zero-shot detector on its own (to
 * evaluate it with `npm run fuse -- --models DIR`, next to a `fusion/` folder).
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from './node-backend';
import { centernetProvenance, centernetWeights, readCenternetPackage } from './centernet-package';
import { saveModelFolder } from './weights-fs';
import { segdetFromCenternet } from '../core/models/segdet-import';
import { segdet } from '../core/models/segdet';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'models-coco/segdet' },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  if (args.help) {
    console.log('usage: npm run import-centernet -- [--out models-coco/segdet] [--seed 1]');
    return;
  }
  await useBackend('cpu');
  const pkg = readCenternetPackage();
  const graph = centernetWeights(pkg);
  const params = segdetFromCenternet(graph, Number(args.seed));
  tf.dispose(Object.values(graph));
  const bytes = await saveModelFolder(args.out!, params, {
    float16: true,
    card: {
      name: segdet.name,
      architecture: 'MobileNetV3 + CenterNet imported as is (COCO person, bicycle, car); segmentation head untrained (seeded init)',
      pretrained: centernetProvenance(pkg),
      parameters: segdet.paramCount(params),
      multiplyAddsAt640x480: segdet.macs(480, 640),
      training: null,
      date: new Date().toISOString(),
    },
  });
  console.log(`imported ${pkg.package} (${pkg.binPath}, sha256 ${pkg.binSha256}) into ${path.resolve(args.out!)} (${bytes} bytes)`);
  tf.dispose(Object.values(params));
}

main().catch((e) => {
  console.error(`import-centernet: ${(e as Error).message}`);
  process.exit(1);
});
