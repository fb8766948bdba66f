/**
 * `npm run fuse -- --ir DIR --vi DIR --out DIR [--labels DIR] [--boxes FILE] [--models DIR] [--method ID [--reference DIR]]
 *   [--backend wasm|cpu|webgpu] [--max-side N] [--score-threshold S] [--no-metrics]`
 *
 * Fuses every IR/VI pair (matched by stem) with the committed weights and writes, per pair,
 * `OUT/fused/<stem>.png` (8-bit grey fused Y), `OUT/rgb/<stem>.png` (fused Y + visible
 * chroma), `OUT/seg/<stem>.png` (class indices 0..8), plus `OUT/detections.json` (the schema of
 * MSRS `detection.json`, with a score as 6th number per box) and `OUT/metrics.csv` (the nine
 * fusion metrics per pair and their mean). With `--labels` / `--boxes` it also prints and
 * writes `OUT/task-metrics.json`: mIoU (classes present in the ground truth) with per-class
 * IoU, and mAP@0.5 (VOC all-point) with per-class AP. Bad files are reported and skipped.
 * `--method seafusion|tardal|ifcnn` fuses with a published network instead of F (S still scores
 * its image); `--reference DIR` then compares each of its images with the method's own output.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from './node-backend';
import { readImage, writePng } from './image-io';
import { loadModelFrom, loadPeerFrom } from './weights-fs';
import { PEERS, runPeer, type PeerDef, type PeerParams } from '../core/models/peers';
import { imageAgreement, type ImageAgreement } from '../core/metrics/image-agreement';
import { createPipeline, type PipelineModels } from '../core/pipeline';
import { pairFiles, type FilePair } from '../core/image/pairing';
import { resizeLabels } from '../core/image/resize';
import { fusionMetrics, toMetricGrey } from '../core/metrics/fusion-metrics';
import { evaluatePair, type PairEvaluation } from '../core/metrics/evaluation';
import { labelIndices } from '../core/image/label';
import { disposeParams } from '../core/models/model-def';
import type { FusionMetrics, GroundTruthBox, RawImage } from '../core/types';
import { parseFuseArgs, type FuseOptions } from './fuse-args';
import {
  baselineFusions, detectionsJson, writeCardEvaluation, writeReports, type BaselineName, type FuseSummary,
} from './fuse-report';

export type { FuseOptions, FuseSummary };
export { baselineFusions, parseFuseArgs };

/**
 * The image files of another method's fused folder by stem; a file that matches no pair is
 * reported in `skipped`, never dropped silently.
 */
async function fusedByStem(dir: string, pairs: FilePair[], skipped: FuseSummary['skipped']): Promise<Map<string, string>> {
  const byStem = new Map<string, string>();
  for (const f of await listFiles(dir, 'fused')) {
    if (!/\.(png|jpe?g|bmp)$/i.test(f)) continue;
    byStem.set(path.parse(f).name, path.join(dir, f));
  }
  const stems = new Set(pairs.map((p) => p.stem));
  for (const [stem, file] of byStem) if (!stems.has(stem)) skipped.push({ path: file, reason: 'no infrared/visible pair with this name' });
  return byStem;
}

/** Default folder of the committed weights (`<repo>/models`). */
export const DEFAULT_MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');

async function listFiles(dir: string, what: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new Error(`--${what} ${dir}: cannot read folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const files: string[] = [];
  for (const n of names.sort()) {
    if ((await stat(path.join(dir, n))).isFile()) files.push(n);
  }
  return files;
}

/**
 * Pairs the files of the given folders. Each folder's files are presented to `pairFiles` under
 * a virtual `ir/`, `vi/` or `label/` folder, so any folder names work; when --ir and --vi are
 * the same folder, names decide (`x_ir.png` / `x_vi.png`).
 */
async function pairFolders(o: FuseOptions): Promise<{ pairs: FilePair[]; unmatched: { path: string; reason: string }[] }> {
  const real = new Map<string, string>();
  const virtual: string[] = [];
  const add = async (dir: string, role: string, what: string) => {
    for (const n of await listFiles(dir, what)) {
      const v = role ? `${role}/${n}` : n;
      if (real.has(v)) continue;
      real.set(v, path.join(dir, n));
      virtual.push(v);
    }
  };
  const same = path.resolve(o.ir) === path.resolve(o.vi);
  await add(o.ir, same ? '' : 'ir', 'ir');
  if (!same) await add(o.vi, 'vi', 'vi');
  if (o.labels) {
    const labelsSame = path.resolve(o.labels) === path.resolve(o.ir);
    await add(o.labels, labelsSame ? '' : 'label', 'labels');
  }
  const r = pairFiles(virtual);
  const back = (v: string) => real.get(v) ?? v;
  return {
    pairs: r.pairs.map((p) => ({ ...p, ir: back(p.ir), vi: back(p.vi), ...(p.label ? { label: back(p.label) } : {}) })),
    unmatched: r.unmatched.map((u) => ({ path: back(u.path), reason: u.reason })),
  };
}

/** Reads `--boxes` (MSRS detection.json schema): ground truth by lower-case file stem. */
async function readBoxes(file: string): Promise<Map<string, GroundTruthBox[]>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`--boxes ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse quotes the offending text, which for a binary file is noise.
    throw new Error(`--boxes ${file}: not valid JSON`);
  }
  const images = (json as { images?: unknown })?.images;
  if (!Array.isArray(images)) throw new Error(`--boxes ${file}: no "images" array`);
  const map = new Map<string, GroundTruthBox[]>();
  for (const im of images) {
    const name = (im as { file?: unknown })?.file;
    const boxes = (im as { boxes?: unknown })?.boxes;
    if (typeof name !== 'string' || !Array.isArray(boxes)) throw new Error(`--boxes ${file}: an image entry lacks "file" or "boxes"`);
    const ok = boxes.every((b) => Array.isArray(b) && b.length >= 5 && b.every((v) => typeof v === 'number' && Number.isFinite(v)));
    if (!ok) throw new Error(`--boxes ${file}: ${name} has a box that is not [x1,y1,x2,y2,class]`);
    map.set(path.parse(name).name.toLowerCase(), boxes.map((b) => b.slice(0, 5) as GroundTruthBox));
  }
  return map;
}

function rgbaToRgb(rgba: Uint8ClampedArray, width: number, height: number): RawImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[3 * i] = rgba[4 * i];
    data[3 * i + 1] = rgba[4 * i + 1];
    data[3 * i + 2] = rgba[4 * i + 2];
  }
  return { width, height, channels: 3, data };
}

const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

/**
 * `--reference`: how closely the port reproduced the method's own outputs, pair by pair and
 * overall (the bounds a faithful port meets: PSNR ≥ 40 dB, 95 % of values within 3 levels).
 */
async function writeAgreement(out: string, rows: ({ stem: string } & ImageAgreement)[], log: (s: string) => void): Promise<void> {
  if (rows.length === 0) return;
  const finite = rows.map((r) => Math.min(r.psnr, 99));
  const summary = {
    pairs: rows.length,
    meanPsnr: round(finite.reduce((a, b) => a + b, 0) / rows.length, 2),
    minPsnr: round(Math.min(...finite), 2),
    maxAbs: Math.max(...rows.map((r) => r.maxAbs)),
    minWithin3: round(Math.min(...rows.map((r) => r.within)), 5),
    faithful: rows.every((r) => r.psnr >= 40 && r.within >= 0.95),
  };
  await writeFile(path.join(out, 'agreement.json'), JSON.stringify({ summary, pairs: rows.map((r) => ({ ...r, psnr: round(Math.min(r.psnr, 99), 2) })) }, null, 1) + '\n');
  log(`against the reference: mean PSNR ${summary.meanPsnr} dB (lowest ${summary.minPsnr}), largest difference ${summary.maxAbs} levels, ` +
    `at least ${(summary.minWithin3 * 100).toFixed(2)} % of values within 3 levels per pair: ${summary.faithful ? 'faithful' : 'NOT within the bounds'}`);
}

/** Loads F and S from `<dir>/fusion` and `<dir>/segdet`. @throws naming the folder and the problem. */
export async function loadPipelineModels(dir: string): Promise<PipelineModels> {
  const fusion = await loadModelFrom(dir, 'fusion');
  try {
    return { fusion, segdet: await loadModelFrom(dir, 'segdet') };
  } catch (e) {
    disposeParams(fusion);
    throw e;
  }
}

/** Runs the whole command on parsed options. @throws on fatal problems (no folder, no weights). */
export async function runFuse(o: FuseOptions): Promise<FuseSummary> {
  const log = o.log ?? ((s: string) => console.log(s));
  await useBackend(o.backend ?? 'wasm');
  const modelsDir = o.loaded ? '(given)' : o.models ?? DEFAULT_MODELS_DIR;
  const models = o.loaded ?? await loadPipelineModels(modelsDir);
  const pipeline = createPipeline(models);
  const withMetrics = o.metrics ?? true;
  let peer: { def: PeerDef; params: PeerParams } | null = null;

  try {
    const { pairs: allPairs, unmatched } = await pairFolders(o);
    const pairs = o.limit ? allPairs.slice(0, o.limit) : allPairs;
    const skipped: FuseSummary['skipped'] = [...unmatched];
    const fusedFiles = o.fused ? await fusedByStem(o.fused, allPairs, skipped) : null;
    if (o.method) peer = { def: PEERS[o.method], params: await loadPeerFrom(o.models ?? DEFAULT_MODELS_DIR, o.method) };
    const agreements: ({ stem: string } & ImageAgreement)[] = [];
    for (const u of unmatched) log(`skip ${u.path}: ${u.reason}`);
    let gtBoxes: Map<string, GroundTruthBox[]> | null = null;
    if (o.boxes) {
      try {
        gtBoxes = await readBoxes(o.boxes);
      } catch (e) {
        // A bad annotation file costs the detection score, not the fusion run.
        skipped.push({ path: o.boxes, reason: (e as Error).message });
        log(`${(e as Error).message}: detection is not scored`);
      }
    }
    log(`${pairs.length} pair${pairs.length === 1 ? '' : 's'} to fuse with ${peer ? `${peer.def.label} (published weights)` : 'F'} (backend ${o.backend ?? 'wasm'}, models ${modelsDir})`);

    for (const sub of ['fused', 'rgb', 'seg']) await mkdir(path.join(o.out, sub), { recursive: true });
    const processed: string[] = [];
    const baselineRows: Record<BaselineName, FusionMetrics[]> = { max: [], mean: [] };
    const detImages: { file: string; width: number; height: number; boxes: number[][] }[] = [];
    const perPair: PairEvaluation[] = [];
    const t0 = Date.now();

    for (let k = 0; k < pairs.length; k++) {
      const p = pairs[k];
      const tag = `[${k + 1}/${pairs.length}] ${p.stem}`;
      try {
        const [ir, vi] = await Promise.all([readImage(p.ir), readImage(p.vi)]);
        // Read the label before fusing so a broken label skips the pair's scoring, not its fusion.
        let gtSeg: Uint8Array | null = null;
        let labelSize = { w: 0, h: 0 };
        let labelNote = '';
        if (p.label) {
          try {
            const lab = await readImage(p.label);
            try {
              gtSeg = labelIndices(lab);
            } catch (e) {
              throw new Error(`${p.label}: ${(e as Error).message}`);
            }
            if (lab.width !== ir.width || lab.height !== ir.height) {
              throw new Error(`${p.label}: label is ${lab.width}x${lab.height}, infrared is ${ir.width}x${ir.height}`);
            }
            labelSize = { w: lab.width, h: lab.height };
          } catch (e) {
            gtSeg = null;
            labelNote = ` (label not used: ${(e as Error).message})`;
            skipped.push({ path: p.label, reason: (e as Error).message });
          }
        }
        let fused: RawImage | undefined;
        if (fusedFiles) {
          const file = fusedFiles.get(p.stem);
          if (!file) throw new Error(`no fused image named ${p.stem} in ${o.fused}`);
          fused = await readImage(file);
        }
        const fuser = peer && (async (a: RawImage, b: RawImage) => {
          const own = await runPeer(peer!.def, peer!.params, a, b);
          if (o.reference) {
            const file = path.join(o.reference, `${p.stem}.png`);
            try {
              agreements.push({ stem: p.stem, ...imageAgreement(own, await readImage(file)) });
            } catch (e) {
              // A missing or odd reference costs the comparison of this pair, not its fusion.
              skipped.push({ path: file, reason: `reference not compared: ${(e as Error).message}` });
            }
          }
          return own;
        });
        const r = await pipeline.run(ir, vi, {
          maxSide: o.maxSide, aspect: o.aspect, scoreThreshold: o.scoreThreshold, taskScale: o.taskScale, ...(fused ? { fused } : {}), ...(fuser ? { fuser } : {}),
        });
        const { width: w, height: h } = r;
        await writePng(path.join(o.out, 'fused', `${p.stem}.png`), { width: w, height: h, channels: 1, data: r.fusedY });
        await writePng(path.join(o.out, 'rgb', `${p.stem}.png`), rgbaToRgb(r.rgb, w, h));
        await writePng(path.join(o.out, 'seg', `${p.stem}.png`), { width: w, height: h, channels: 1, data: r.seg });
        detImages.push({
          file: path.basename(p.ir),
          width: w,
          height: h,
          boxes: r.detections.map((d) => [round(d[0], 2), round(d[1], 2), round(d[2], 2), round(d[3], 2), d[4], round(d[5], 4)]),
        });
        const gt = gtBoxes?.get(path.parse(p.ir).name.toLowerCase()) ?? gtBoxes?.get(p.stem.toLowerCase());
        const evaluation = evaluatePair({
          stem: p.stem, ir: r.ir, vi: r.vi, fusedY: r.fusedY, width: w, height: h, seg: gtSeg ? r.seg : null,
          label: gtSeg ? (r.scale === 1 ? gtSeg : resizeLabels(gtSeg, labelSize.w, labelSize.h, w, h)) : null,
          detections: r.detections,
          boxes: gt ? gt.map((b) => [b[0] * r.scale, b[1] * r.scale, b[2] * r.scale, b[3] * r.scale, b[4]] as GroundTruthBox) : null,
          metrics: withMetrics,
        });
        let metricText = '';
        const m = evaluation.metrics;
        if (m) {
          if (o.baselines) {
            const gi = toMetricGrey(r.ir), gv = toMetricGrey(r.vi);
            const b = baselineFusions(gi, gv);
            baselineRows.max.push(fusionMetrics(gi, gv, b.max, w, h));
            baselineRows.mean.push(fusionMetrics(gi, gv, b.mean, w, h));
          }
          metricText = `  EN ${m.EN.toFixed(2)} SD ${m.SD.toFixed(1)} VIF ${m.VIF.toFixed(3)} Qabf ${m.Qabf.toFixed(3)} SSIM ${m.SSIM.toFixed(3)}` +
            Object.entries(evaluation.undefinedMetrics ?? {}).map(([n, why]) => `  ${n} n/a (${why})`).join('');
        }
        processed.push(p.stem);
        perPair.push(evaluation);
        const elapsed = (Date.now() - t0) / 1000;
        const eta = (elapsed / (k + 1)) * (pairs.length - k - 1);
        log(`${tag} ${w}x${h} model ${Math.round(r.modelMs)} ms, ${r.detections.filter((d) => d[5] >= 0.3).length} boxes ≥0.3${metricText}` +
          `  ETA ${eta.toFixed(0)} s${labelNote}${r.notices.length ? `  note: ${r.notices.map((n) => n.message).join('; ')}` : ''}`);
      } catch (e) {
        const reason = (e as Error).message;
        skipped.push({ path: `${p.ir} + ${p.vi}`, reason });
        log(`${tag} skipped: ${reason}`);
      }
    }

    await writeFile(path.join(o.out, 'detections.json'), detectionsJson(detImages));
    if (o.reference) await writeAgreement(o.out, agreements, log);
    const { meanMetrics, baselines, task } = await writeReports(o.out, perPair, {
      metrics: withMetrics, baselineRows: o.baselines ? baselineRows : null, labels: !!o.labels, boxes: !!gtBoxes,
    }, log);

    const bad = skipped.length;
    log(`done: ${processed.length} fused in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${bad} file${bad === 1 ? '' : 's'} skipped; outputs in ${o.out}`);
    const summary: FuseSummary = { processed, skipped, meanMetrics, baselines, task, perPair };
    if (o.updateCards && !o.loaded) await writeCardEvaluation(modelsDir, o.ir, summary);
    return summary;
  } finally {
    if (peer) tf.dispose(Object.values(peer.params));
    if (!o.loaded) {
      disposeParams(models.fusion);
      if (models.segdet) disposeParams(models.segdet);
    }
  }
}

/** Entry point: returns the process exit code (0 ok, 1 nothing fused or fatal error, 2 usage). */
export async function main(argv: string[], command: 'fuse' | 'score' = 'fuse'): Promise<number> {
  const o = parseFuseArgs(argv, command === 'score');
  if (!o) return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  try {
    const s = await runFuse(o);
    return s.processed.length > 0 ? 0 : 1;
  } catch (e) {
    console.error(`${command}: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
