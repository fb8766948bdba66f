import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from './node-backend';
import { readImage, writePng } from './image-io';
import { saveStandInModels } from './stand-in-models.test-helper';
import { baselineFusions, DEFAULT_MODELS_DIR as MODELS, main, parseFuseArgs, runFuse } from './fuse';
import { toMetricGrey } from '../core/metrics/fusion-metrics';
import { FUSION_METRIC_NAMES, type Detection } from '../core/types';
import { labelIndices } from '../core/image/label';
import { confusionMatrix, meanAveragePrecision, segmentationScores } from '../core/metrics/task-metrics';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-fixtures/pairs');
let tmp: string;

beforeAll(async () => {
  await useBackend('wasm');
  tmp = await mkdtemp(path.join(tmpdir(), 'fuse-cli-'));
  // Seeded, untrained weights stand in for the committed ones: this tests the plumbing.
  await saveStandInModels(path.join(tmp, 'models'), 7, ['fusion', 'segdet'], ['segdet']);
  for (const k of ['ir', 'vi', 'label']) await cp(path.join(FIXTURES, k), path.join(tmp, 'in', k), { recursive: true });
  // A matched pair whose IR bytes are not an image, and a stray non-image file.
  await writeFile(path.join(tmp, 'in', 'ir', 'broken.png'), Buffer.from('not a png at all'));
  await cp(path.join(FIXTURES, 'vi', '00200D.png'), path.join(tmp, 'in', 'vi', 'broken.png'));
  await writeFile(path.join(tmp, 'in', 'vi', 'notes.txt'), 'hello');
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('fuse CLI', () => {
  it('scores another method\'s fused folder as it scores F: F\'s own fused/ gives its fusion metrics exactly', async () => {
    const common = {
      ir: path.join(FIXTURES, 'ir'), vi: path.join(FIXTURES, 'vi'), labels: path.join(FIXTURES, 'label'),
      boxes: path.join(FIXTURES, 'detection.json'), models: path.join(tmp, 'models'), backend: 'wasm' as const, log: () => {},
    };
    const own = await runFuse({ ...common, out: path.join(tmp, 'own') });
    const peer = path.join(tmp, 'peer');
    await cp(path.join(tmp, 'own', 'fused'), peer, { recursive: true });
    await writePng(path.join(peer, 'stray.png'), { width: 8, height: 8, channels: 1, data: new Uint8Array(64) });
    const scored = await runFuse({ ...common, fused: peer, out: path.join(tmp, 'peer-scored') });
    expect(scored.processed).toEqual(own.processed);
    expect(scored.perPair.map((e) => e.metrics)).toEqual(own.perPair.map((e) => e.metrics));
    expect(scored.meanMetrics).toEqual(own.meanMetrics);
    // S sees the 8-bit image instead of F's float output: the same classes almost everywhere
    // (97 % here, with the seeded, untrained stand-in S, which is more sensitive than a trained one).
    for (const stem of own.processed) {
      const a = await readImage(path.join(tmp, 'own', 'seg', `${stem}.png`));
      const b = await readImage(path.join(tmp, 'peer-scored', 'seg', `${stem}.png`));
      let same = 0;
      for (let i = 0; i < a.width * a.height; i++) same += a.data[i * a.channels] === b.data[i * b.channels] ? 1 : 0;
      expect(same / (a.width * a.height)).toBeGreaterThan(0.95);
    }
    expect(scored.skipped).toEqual([{ path: path.join(peer, 'stray.png'), reason: 'no infrared/visible pair with this name' }]);

    // A missing image and one of the wrong size are named, and nothing is scored for them.
    await rm(path.join(peer, '00964N.png'));
    await writePng(path.join(peer, '00200D.png'), { width: 320, height: 240, channels: 1, data: new Uint8Array(320 * 240) });
    const bad = await runFuse({ ...common, fused: peer, out: path.join(tmp, 'peer-bad') });
    expect(bad.processed).toEqual([]);
    const reasons = bad.skipped.map((k) => k.reason);
    expect(reasons).toContain(`no fused image named 00964N in ${peer}`);
    expect(reasons).toContain('the fused image is 320x240, the infrared image 640x480');
    expect(await main(['--ir', common.ir, '--vi', common.vi, '--out', path.join(tmp, 'x')], 'score')).toBe(2);
  });

  it('fuses with a published network (--method), compares it with the method\'s own outputs (--reference), and scores it as its saved images would be', async () => {
    const models = path.join(tmp, 'models');
    await cp(path.join(MODELS, 'peer-tardal'), path.join(models, 'peer-tardal'), { recursive: true });
    const crops = path.join(FIXTURES, '../peers');
    const common = { ir: path.join(crops, 'ir'), vi: path.join(crops, 'vi'), models, backend: 'wasm' as const, log: () => {} };
    const out = path.join(tmp, 'tardal');
    const s = await runFuse({ ...common, method: 'tardal', reference: path.join(crops, 'tardal'), out });
    expect(s.processed).toEqual(['00200D', '00964N']);
    const agreement = JSON.parse(await readFile(path.join(out, 'agreement.json'), 'utf8'));
    expect(agreement.summary).toMatchObject({ pairs: 2, faithful: true });
    expect(agreement.summary.maxAbs).toBeLessThanOrEqual(2);
    // The colour image written is the method's own; scored as a folder, it gives the same numbers.
    const scored = await runFuse({ ...common, fused: path.join(out, 'rgb'), out: path.join(tmp, 'tardal-scored') });
    expect(scored.perPair.map((e) => e.metrics)).toEqual(s.perPair.map((e) => e.metrics));
    expect(parseFuseArgs(['--ir', 'a', '--vi', 'b', '--out', 'c', '--method', 'nope'])).toBeNull();
    expect(parseFuseArgs(['--ir', 'a', '--vi', 'b', '--out', 'c', '--reference', 'r'])).toBeNull();
  });

  it('writes an undefined metric as n/a with its reason, in metrics.csv and the log', async () => {
    const dir = path.join(tmp, 'flat');
    for (const k of ['ir', 'vi']) await mkdir(path.join(dir, k), { recursive: true });
    const w = 64, h = 48;
    await writePng(path.join(dir, 'ir', 'flat.png'), { width: w, height: h, channels: 1, data: new Uint8Array(w * h).fill(100) });
    await writePng(path.join(dir, 'vi', 'flat.png'), { width: w, height: h, channels: 1, data: Uint8Array.from({ length: w * h }, (_, i) => (i * 37) % 251) });
    const lines: string[] = [];
    const out = path.join(tmp, 'flat-out');
    await runFuse({ ir: path.join(dir, 'ir'), vi: path.join(dir, 'vi'), out, models: path.join(tmp, 'models'), backend: 'wasm', log: (l) => lines.push(l) });
    const csv = (await readFile(path.join(out, 'metrics.csv'), 'utf8')).trim().split('\n');
    const scd = csv[0].split(',').indexOf('SCD');
    expect(csv[1].split(',')[scd]).toBe('n/a (constant infrared image)');
    expect(csv[2].split(',')[scd]).toBe('n/a (undefined on 1 pairs)');
    expect(lines.some((l) => l.includes('SCD n/a (constant infrared image)'))).toBe(true);
  });

  it('fuses the fixture pairs, writes every output, scores tasks, and skips a broken file', async () => {
    const lines: string[] = [];
    const out = path.join(tmp, 'out');
    const s = await runFuse({
      ir: path.join(tmp, 'in', 'ir'), vi: path.join(tmp, 'in', 'vi'), labels: path.join(tmp, 'in', 'label'),
      boxes: path.join(FIXTURES, 'detection.json'), out, models: path.join(tmp, 'models'), backend: 'wasm',
      log: (l) => lines.push(l),
    });
    expect(s.processed).toEqual(['00200D', '00964N']);
    const skipped = Object.fromEntries(s.skipped.map((k) => [path.basename(k.path.split(' + ')[0]), k.reason]));
    expect(skipped['broken.png']).toMatch(/broken\.png: not a PNG or JPEG/);
    expect(skipped['notes.txt']).toMatch(/not an image/);
    expect(lines.some((l) => /\[1\/3\] 00200D 640x480/.test(l))).toBe(true);
    expect(lines.some((l) => /broken skipped: .*not a PNG or JPEG/.test(l))).toBe(true);

    for (const stem of s.processed) {
      const fused = await readImage(path.join(out, 'fused', `${stem}.png`));
      const rgb = await readImage(path.join(out, 'rgb', `${stem}.png`));
      const seg = await readImage(path.join(out, 'seg', `${stem}.png`));
      for (const im of [fused, rgb, seg]) expect([im.width, im.height]).toEqual([640, 480]);
      for (let i = 0; i < 640 * 480; i += 997) expect(seg.data[4 * i]).toBeLessThanOrEqual(8);
    }
    const det = JSON.parse(await readFile(path.join(out, 'detections.json'), 'utf8'));
    expect(det.classes).toEqual(['person', 'bicycle', 'car']);
    expect(det.images.map((i: { file: string }) => i.file)).toEqual(['00200D.png', '00964N.png']);
    for (const im of det.images) {
      expect([im.width, im.height]).toEqual([640, 480]);
      for (const b of im.boxes) expect(b).toHaveLength(6);
    }
    const csv = (await readFile(path.join(out, 'metrics.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe(['stem', ...FUSION_METRIC_NAMES].join(','));
    expect(csv.map((l) => l.split(',')[0])).toEqual(['stem', '00200D', '00964N', 'mean']);
    for (const l of csv.slice(1)) expect(l.split(',').slice(1).every((v) => Number.isFinite(Number(v)))).toBe(true);
    const task = JSON.parse(await readFile(path.join(out, 'task-metrics.json'), 'utf8'));
    expect(task.segmentation.pairs).toBe(2);
    // The scores equal a recount from the files written: seg PNGs against the label PNGs,
    // detections.json against the fixture boxes.
    const segs = [], labels = [];
    for (const stem of s.processed) {
      segs.push(labelIndices(await readImage(path.join(out, 'seg', `${stem}.png`))));
      labels.push(labelIndices(await readImage(path.join(FIXTURES, 'label', `${stem}.png`))));
    }
    const recount = segmentationScores(confusionMatrix(segs, labels, 9));
    expect(Number.isFinite(task.segmentation.mIoU)).toBe(true);
    expect(task.segmentation.mIoU).toBeCloseTo(recount.mIoU, 12);
    const gt = JSON.parse(await readFile(path.join(FIXTURES, 'detection.json'), 'utf8'));
    const truth = det.images.map((im: { file: string }) => gt.images.find((g: { file: string }) => g.file === im.file).boxes);
    const recountAP = meanAveragePrecision(det.images.map((im: { boxes: Detection[] }) => im.boxes), truth, 3, 0.5);
    expect(task.detection.mAP50).toBeCloseTo(recountAP.mAP, 6);
    expect(Object.keys(task.segmentation.perClassIoU)).toHaveLength(9);
    expect(task.detection.pairs).toBe(2);
    expect(Object.keys(task.detection.perClassAP)).toEqual(['person', 'bicycle', 'car']);
  });

  it('scores the pixel max/mean baselines and records the evaluation in the model cards', async () => {
    const models = path.join(tmp, 'models');
    for (const name of ['fusion', 'segdet']) await writeFile(path.join(models, name, 'card.json'), JSON.stringify({ name }));
    const lines: string[] = [];
    const s = await runFuse({
      ir: path.join(FIXTURES, 'ir'), vi: path.join(FIXTURES, 'vi'), labels: path.join(FIXTURES, 'label'),
      out: path.join(tmp, 'out-cards'), models, baselines: true, updateCards: true, log: (l) => lines.push(l),
    });
    // On these pairs (as on MSRS generally) the max fusion keeps far more contrast than the mean.
    expect(s.baselines!.max.SD).toBeGreaterThan(s.baselines!.mean.SD);
    expect(lines.some((l) => l.startsWith('| pixel mean |'))).toBe(true);
    expect(lines.some((l) => /above the pixel-mean baseline on \d\/9 metrics/.test(l))).toBe(true);
    const fusionCard = JSON.parse(await readFile(path.join(models, 'fusion', 'card.json'), 'utf8'));
    expect(fusionCard.name).toBe('fusion');
    expect(fusionCard.evaluation.pairs).toBe(2);
    expect(fusionCard.evaluation.fusionMetrics.VIF).toBeCloseTo(s.meanMetrics!.VIF, 10);
    expect(fusionCard.evaluation.baselines.mean.SD).toBeCloseTo(s.baselines!.mean.SD, 10);
    const segCard = JSON.parse(await readFile(path.join(models, 'segdet', 'card.json'), 'utf8'));
    expect(segCard.evaluation.segmentation.mIoU).toBeCloseTo(s.task!.segmentation!.mIoU, 10);
  });

  it('builds the baselines exactly as the golden max/mean images were made', async () => {
    const golden = path.resolve(FIXTURES, '../golden');
    const grey = async (f: string) => toMetricGrey(await readImage(path.join(golden, f)));
    const b = baselineFusions(await grey('msrs-test_00047N_ir.png'), await grey('msrs-test_00047N_vi.png'));
    expect(Array.from(b.max)).toEqual(Array.from(await grey('msrs-test_00047N_max.png')));
    expect(Array.from(b.mean)).toEqual(Array.from(await grey('msrs-test_00047N_mean.png')));
  });

  it('fails clearly without weights or arguments', async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(await main(['--ir', 'x'])).toBe(2);
      const empty = path.join(tmp, 'nomodels');
      await mkdir(empty, { recursive: true });
      expect(await main(['--ir', path.join(tmp, 'in', 'ir'), '--vi', path.join(tmp, 'in', 'vi'), '--out', path.join(tmp, 'o2'), '--models', empty, '--backend', 'cpu'])).toBe(1);
    } finally {
      console.error = orig;
    }
    expect(errors[0]).toMatch(/--ir, --vi and --out are required/);
    expect(errors[1]).toMatch(/nomodels[\\/]fusion[\\/]model\.json: cannot read \(ENOENT\)/);
  });
});
