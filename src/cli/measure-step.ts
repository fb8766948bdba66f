/**
 * Measures, on the Node backend (WASM by default), the time of one training step of F with
 * Adam (batch 8, 128×128 crops, L1 loss to max(IR, VI)) and the forward time of F and S at
 * 640×480. Prints medians in milliseconds and the model size table.
 *
 *   npx tsx src/cli/measure-step.ts [--backend wasm|cpu] [--steps 5] [--batch 8] [--crop 128]
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from './node-backend';
import { fusion } from '../core/models/fusion';
import { segdet } from '../core/models/segdet';
import { disposeParams } from '../core/models/model-def';
import { formatModelSizeReport, modelSizeReport } from '../core/models/report';
import { Rng } from '../core/nn/random';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';
  const steps = Number(arg('steps', '5'));
  const batch = Number(arg('batch', '8'));
  const crop = Number(arg('crop', '128'));
  await useBackend(backend);
  console.log(`backend ${tf.getBackend()}`);
  console.log(formatModelSizeReport(modelSizeReport()));

  const rng = new Rng(1);
  const x = tf.tensor4d(rng.uniformArray(batch * crop * crop * 2), [batch, crop, crop, 2]);
  const target = tf.tidy(() => tf.max(x, 3, true));
  const params = fusion.init(1);
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
  const loss = (): tf.Scalar => tf.mean(tf.abs(tf.sub(fusion.apply(params, x), target)));
  const times: number[] = [];
  for (let i = 0; i < steps + 1; i++) {
    const t0 = performance.now();
    const l = opt.minimize(loss, true);
    await l?.data();
    l?.dispose();
    if (i > 0) times.push(performance.now() - t0); // the first step includes kernel set-up
  }
  console.log(`F train step (Adam, batch ${batch}, ${crop}x${crop}, L1): median ${median(times).toFixed(0)} ms over ${times.length} [${times.map((t) => t.toFixed(0)).join(', ')}]`);

  const fwd = async (name: string, f: () => tf.Tensor[]): Promise<void> => {
    const ts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const outs = f();
      for (const o of outs) await o.data();
      tf.dispose(outs);
      if (i > 0) ts.push(performance.now() - t0);
    }
    console.log(`${name} forward 640x480: median ${median(ts).toFixed(0)} ms [${ts.map((t) => t.toFixed(0)).join(', ')}]`);
  };
  const xf = tf.tensor4d(rng.uniformArray(480 * 640 * 2), [1, 480, 640, 2]);
  await fwd('F', () => [fusion.apply(params, xf)]);
  const sp = segdet.init(1);
  const xs = tf.tensor4d(rng.uniformArray(480 * 640), [1, 480, 640, 1]);
  await fwd('S', () => { const o = segdet.apply(sp, xs); return [o.seg, o.det]; });

  tf.dispose([x, target, xf, xs]);
  disposeParams(params);
  disposeParams(sp);
  opt.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
