/**
 * `npm run finetune -- --choose-adapt-k 0,25,50,100,200 [--data DIR] [--out DIR]`: chooses K, the
 * steps of task-adapted scoring, on the training split only, before any test number. The labelled
 * pairs of `msrs/train` are cut into blocks of five consecutive frames (as `holdOutBlocks` does for
 * fine-tunes); a fifth of the blocks is held out. For each K, S's heads adapt K steps to the
 * pretrained F's fused images of the rest (the recipe and seed of `--adapt-task`), then S scores
 * the held-out pairs (mIoU, mAP@0.5). K = 0, the frozen S, is reported as the reference and not
 * chosen (how long to adapt is the question); among the others the K with the best held-out mIoU
 * is chosen (the smaller on a tie). `adapt-k.json` keeps every row. F and S were trained on all of
 * `msrs/train`, so its held-out blocks are new to the adaptation, not to S: the frozen S has seen
 * them, and the comparison with K = 0 flatters it.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readCommandLine, parseNodeBackend, type NodeBackend } from './args';
import { holdOutBlocks, loadSplit, VALIDATION_SHARE } from './dataset';
import { DEFAULT_MODELS_DIR } from './fuse';
import { useBackend } from './node-backend';
import { loadModelFrom } from './weights-fs';
import { disposeParams } from '../core/models/model-def';
import { createPipeline } from '../core/pipeline';
import { evaluatePair, scoreSet } from '../core/metrics/evaluation';
import { adaptTaskHeads, ADAPT_DEFAULTS } from '../core/train/adapt-task';
import { prepareTrainPairs, type ReadPair } from '../core/train/pairs';
import type { Params } from '../core/types';

export interface AdaptKOptions {
  ks: number[];
  data: string;
  models?: string;
  out: string;
  backend: NodeBackend;
  /** Share of the labelled training pairs held out (whole 5-frame blocks). */
  heldOut: number;
  log?: (line: string) => void;
}

export interface AdaptKRow {
  k: number;
  mIoU: number;
  mAP50: number;
  seconds: number;
}

const USAGE = `usage: npm run finetune -- --choose-adapt-k K1,K2,... [--data DIR] [--models DIR] [--out DIR] [--held-out F] [--backend wasm|cpu|webgpu]
  Chooses K for --adapt-task on msrs/train alone: S adapted K steps on four fifths of its labelled pairs, scored on the rest.`;

export function parseAdaptKArgs(argv: string[]): AdaptKOptions | null {
  return readCommandLine(argv, {
    'choose-adapt-k': { type: 'string' }, data: { type: 'string' }, models: { type: 'string' }, out: { type: 'string' },
    'held-out': { type: 'string' }, backend: { type: 'string' },
  }, USAGE, (v) => {
    const ks = (v['choose-adapt-k'] ?? '').split(',').map((s) => Number(s.trim()));
    if (!ks.length || ks.some((k) => !Number.isInteger(k) || k < 0)) throw new Error(`--choose-adapt-k takes whole numbers ≥ 0, got ${v['choose-adapt-k']}\n${USAGE}`);
    const heldOut = v['held-out'] === undefined ? VALIDATION_SHARE : Number(v['held-out']);
    if (!(heldOut > 0 && heldOut < 1)) throw new Error(`--held-out must be in (0, 1), got ${v['held-out']}`);
    return {
      ks: [...new Set(ks)].sort((a, b) => a - b), data: v.data ?? '../shared/data', models: v.models, out: v.out ?? 'runs/adapt-k',
      backend: v.backend ? parseNodeBackend(v.backend) : 'wasm', heldOut,
    };
  });
}

/** Held-out mIoU and mAP@0.5 of F with S. */
async function scoreHeldOut(f: Params, s: Params, pairs: readonly ReadPair[]): Promise<{ mIoU: number; mAP50: number }> {
  const pipe = createPipeline({ fusion: f, segdet: s });
  const evals = [];
  for (const p of pairs) {
    const r = await pipe.run(p.ir, p.vi, {});
    evals.push(evaluatePair({
      stem: p.stem, ir: r.ir, vi: r.vi, fusedY: r.fusedY, width: r.width, height: r.height, seg: r.seg, label: p.label ?? null,
      detections: r.detections, boxes: p.boxes ?? null, metrics: false,
    }));
  }
  const set = scoreSet(evals);
  return { mIoU: set.segmentation?.mIoU ?? NaN, mAP50: set.detection?.mAP50 ?? NaN };
}

export async function runAdaptK(o: AdaptKOptions): Promise<{ rows: AdaptKRow[]; chosen: number }> {
  const log = o.log ?? ((s: string) => console.log(s));
  await useBackend(o.backend);
  const trainDir = path.join(o.data, 'msrs', 'train');
  if (!existsSync(path.join(trainDir, 'label'))) throw new Error(`no labelled training pairs at ${trainDir}`);
  const modelsDir = o.models ?? DEFAULT_MODELS_DIR;
  const f = await loadModelFrom(modelsDir, 'fusion');
  const s = await loadModelFrom(modelsDir, 'segdet');
  try {
    const read = (await loadSplit(trainDir)).filter((p) => p.label);
    const { train, validation } = holdOutBlocks(read.map((p) => p.stem), o.heldOut, 1);
    const held = new Set(validation);
    const adaptOn = read.filter((p) => !held.has(p.stem));
    const scoreOn = read.filter((p) => held.has(p.stem));
    const { pairs } = await prepareTrainPairs(adaptOn, { taskOn: false });
    log(`msrs/train: ${train.length} labelled pairs to adapt on, ${validation.length} held out (5-frame blocks, seed 1); backend ${tf.getBackend()}`);
    const rows: AdaptKRow[] = [];
    for (const k of o.ks) {
      const t0 = performance.now();
      const sk = k === 0 ? s : await adaptTaskHeads(f, s, pairs, { ...ADAPT_DEFAULTS, steps: k });
      try {
        const r = await scoreHeldOut(f, sk, scoreOn);
        rows.push({ k, ...r, seconds: Math.round((performance.now() - t0) / 1000) });
        log(`K ${k}: held-out mIoU ${(100 * r.mIoU).toFixed(2)} %, mAP@0.5 ${(100 * r.mAP50).toFixed(2)} (${rows.at(-1)!.seconds} s)`);
      } finally {
        if (sk !== s) disposeParams(sk);
      }
    }
    const candidates = rows.some((r) => r.k > 0) ? rows.filter((r) => r.k > 0) : rows;
    const best = candidates.reduce((a, b) => (b.mIoU > a.mIoU ? b : a));
    log(`chosen: K = ${best.k} (best held-out mIoU among K > 0; the smaller K on a tie)`);
    await mkdir(o.out, { recursive: true });
    await writeFile(path.join(o.out, 'adapt-k.json'), JSON.stringify({
      recipe: ADAPT_DEFAULTS, heldOutShare: o.heldOut, adaptOn: train, heldOut: validation, rows, chosen: best.k, backend: tf.getBackend(),
    }, null, 1) + '\n');
    return { rows, chosen: best.k };
  } finally {
    disposeParams(f);
    disposeParams(s);
  }
}
