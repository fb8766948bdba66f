/**
 * Reads the COCO-pretrained MobileNetV3 CenterNet that the devDependency `@vladmandic/human`
 * ships (`models/centernet.json` + `centernet.bin`). Used at training time (import) and by
 * tests that check S against the graph; never at run time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The graph model's files and what the model card records about them. */
export interface CenternetPackage {
  modelJson: { modelTopology: unknown; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[]; convertedBy?: string; generatedBy?: string };
  weightData: ArrayBuffer;
  /** Package name and version, e.g. `@vladmandic/human@3.3.6`. */
  package: string;
  binPath: string;
  binSha256: string;
}

/** Loads the package's graph files. @throws when the devDependency is not installed. */
export function readCenternetPackage(): CenternetPackage {
  let dir: string;
  try {
    // The package's exports hide package.json: resolve its main entry (dist/…) and go up.
    dir = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
  } catch {
    throw new Error('@vladmandic/human is not installed: run `npm install` (it is a devDependency)');
  }
  const pkgJson = path.join(dir, 'package.json');
  const { name, version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { name: string; version: string };
  const modelJson = JSON.parse(readFileSync(path.join(dir, 'models', 'centernet.json'), 'utf8')) as CenternetPackage['modelJson'];
  const binPath = path.join(dir, 'models', 'centernet.bin');
  const bin = readFileSync(binPath);
  return {
    modelJson,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
    package: `${name}@${version}`,
    binPath: path.relative(process.cwd(), binPath),
    binSha256: createHash('sha256').update(bin).digest('hex'),
  };
}

/** The graph's weights as float32 tensors by name (the caller disposes them). */
export function centernetWeights(p: CenternetPackage): Record<string, tf.Tensor> {
  const specs = p.modelJson.weightsManifest.flatMap((g) => g.weights);
  return tf.io.decodeWeights(p.weightData, specs) as Record<string, tf.Tensor>;
}

/** What the model card and README say about the source. */
export function centernetProvenance(p: CenternetPackage): Record<string, unknown> {
  return {
    package: p.package,
    file: p.binPath.replace(/\\/g, '/').replace(/^.*node_modules\//, 'node_modules/'),
    sha256: p.binSha256,
    source: 'https://github.com/610265158/mobilenetv3_centernet (converted to tfjs by github.com/vladmandic)',
    licence: 'the npm package is MIT; the original repository (610265158/mobilenetv3_centernet) states no licence',
    citation: [
      'Howard et al., "Searching for MobileNetV3", ICCV 2019',
      'Zhou, Wang, Krähenbühl, "Objects as Points", arXiv:1904.07850, 2019',
    ],
  };
}
