import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from './node-backend';
import { saveStandInModels } from './stand-in-models.test-helper';
import { comparisonTable, goalCheck, parseFinetuneArgs, runFinetune } from './finetune';
import { main } from './finetune-cli';
import { splitHeldOut } from '../core/train/finetune-session';
import { FUSION_METRIC_NAMES } from '../core/types';
import { labelIndices } from '../core/image/label';
import { resizeLabels } from '../core/image/resize';
import { confusionMatrix, segmentationScores } from '../core/metrics/task-metrics';
import { readImage } from './image-io';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-fixtures/pairs');
let tmp: string;

beforeAll(async () => {
  await useBackend('wasm');
  tmp = await mkdtemp(path.join(tmpdir(), 'finetune-cli-'));
  // Seeded, untrained weights stand in for the committed ones: this tests the plumbing.
  await saveStandInModels(path.join(tmp, 'models'), 7);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('finetune CLI', () => {
  it('fine-tunes with bdl on the fixture pairs, saves the run, and compares with the pretrained F', async () => {
    const lines: string[] = [];
    const out = path.join(tmp, 'run-bdl');
    const s = await runFinetune({
      spec: { strategy: 'bdl', options: { segmentation: 1, detection: 0.5 }, steps: 2, batch: 1, crop: 64, seed: 3, heldOutFraction: 0.5 },
      data: '(unused)', train: FIXTURES, test: FIXTURES, models: path.join(tmp, 'models'), out, backend: 'wasm', evaluate: true, evalMaxSide: 160,
      adaptTask: 1,
      log: (l) => lines.push(l),
    });
    expect(s.logs.map((l) => l.step)).toEqual([1, 2]);
    expect(s.logs.every((l) => !l.skipped && Number.isFinite(l.total))).toBe(true);
    expect(lines.some((l) => /\[bdl\] 2\/2 \(100\.0%\) loss .* ms\/step \| ETA 0s/.test(l))).toBe(true);
    expect(lines.some((l) => /1 training pairs, 1 held out/.test(l))).toBe(true);
    // F, D and S's heads moved: all saved, with a card.
    expect(s.saved.map((d) => path.basename(d)).sort()).toEqual(['discriminator', 'fusion', 'segdet']);
    for (const f of ['fusion/model.json', 'fusion/weights.bin', 'fusion/card.json', 'discriminator/model.json', 'history.json', 'comparison.json']) {
      expect(existsSync(path.join(out, f))).toBe(true);
    }
    const card = JSON.parse(await readFile(path.join(out, 'fusion', 'card.json'), 'utf8'));
    expect(card.fineTuned.spec.strategy).toBe('bdl');
    expect(card.fineTuned.spec.options.detection).toBe(0.5);
    expect(card.fineTuned.spec.options.lr).toBe(1e-4);
    const history = JSON.parse(await readFile(path.join(out, 'history.json'), 'utf8'));
    expect(history.logs).toHaveLength(2);
    expect(Object.keys(history.logs[0].stats)).toEqual(['w.visual', 'w.task', 'c.visual', 'c.task']);
    // Both Fs were scored with the same S on both pairs.
    expect(s.evaluation!.map((r) => r.model)).toEqual(['pretrained', 'fine-tuned']);
    for (const r of s.evaluation!) {
      for (const m of FUSION_METRIC_NAMES) expect(Number.isFinite(r.metrics![m])).toBe(true);
      // mIoU recounted from the segmentation maps written for that F, against the labels.
      const dir = path.join(out, 'eval', r.model === 'pretrained' ? 'pretrained' : 'finetuned');
      const segs = [], labels = [];
      for (const stem of ['00200D', '00964N']) {
        const seg = await readImage(path.join(dir, 'seg', `${stem}.png`)); // at --eval-max-side 160
        segs.push(labelIndices(seg));
        labels.push(resizeLabels(labelIndices(await readImage(path.join(FIXTURES, 'label', `${stem}.png`))), 640, 480, seg.width, seg.height));
      }
      expect(r.mIoU).toBeCloseTo(segmentationScores(confusionMatrix(segs, labels, 9)).mIoU, 12);
      expect(Number.isFinite(r.mAP50)).toBe(true);
    }
    expect(existsSync(path.join(out, 'eval', 'finetuned', 'fused', '00964N.png'))).toBe(true);
    // Scored again with S's heads adapted to each F, and the bdl run with its own trained heads.
    const comparison = JSON.parse(await readFile(path.join(out, 'comparison.json'), 'utf8'));
    expect(Object.keys(comparison.adapted)).toEqual(['pretrained', 'fine-tuned', 'fine-tuned, own heads']);
    for (const v of Object.values(comparison.adapted) as { mIoU: number; mAP50: number }[]) {
      expect(v.mIoU).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(v.mAP50)).toBe(true);
    }
    expect(comparison.adaptTask.steps).toBe(1);
    expect(lines.some((l) => /adapting S's heads to the fine-tuned F: 1 steps on 2 labelled training pairs/.test(l))).toBe(true);
    const table = lines.find((l) => l.includes('change %'))!;
    expect(table).toMatch(/model +EN +SD .* mIoU +mAP50/);
    expect(table).toMatch(/pretrained/);
    expect(table).toMatch(/fine-tuned/);
    const [pre, fin] = s.evaluation!;
    const dIoU = 100 * (fin.mIoU! - pre.mIoU!);
    const rel = (k: 'VIF' | 'Qabf') => (100 * (fin.metrics![k] - pre.metrics![k])) / Math.abs(pre.metrics![k]);
    const met = dIoU >= 1.5 && Math.abs(rel('VIF')) <= 5 && Math.abs(rel('Qabf')) <= 5;
    expect(table).toContain(`\ngoal (+1.5 mIoU points, VIF and Qabf within 5 %): ${met ? 'MET' : 'not met'} — mIoU ${dIoU >= 0 ? '+' : ''}${dIoU.toFixed(2)} points`);
  });

  it('runs td and fixed without evaluation through main()', async () => {
    const base = ['--train', FIXTURES, '--models', path.join(tmp, 'models'), '--steps', '1', '--batch', '1', '--crop', '64', '--no-eval'];
    const orig = console.log;
    const lines: string[] = [];
    console.log = (m: string) => lines.push(m);
    try {
      expect(await main(['--strategy', 'td', '--out', path.join(tmp, 'run-td'), ...base, '--opt', 'xi=0.05'])).toBe(0);
      expect(await main(['--strategy', 'fixed', '--out', path.join(tmp, 'run-fixed'), ...base, '--opt', 'adversarial=0.1'])).toBe(0);
    } finally {
      console.log = orig;
    }
    expect(existsSync(path.join(tmp, 'run-td', 'lossGenerator', 'model.json'))).toBe(true);
    expect(existsSync(path.join(tmp, 'run-td', 'segdet'))).toBe(false);
    expect(existsSync(path.join(tmp, 'run-fixed', 'fusion', 'model.json'))).toBe(true);
    expect(lines.some((l) => /options: .*xi=0\.05/.test(l))).toBe(true);
  });

  it('rejects bad arguments with a usage line', async () => {
    const errors: string[] = [];
    const [origErr, origLog] = [console.error, console.log];
    console.error = (m: string) => errors.push(m);
    console.log = () => {};
    try {
      expect(parseFinetuneArgs(['--strategy', 'nope'])).toBeNull();
      expect(parseFinetuneArgs(['--strategy', 'td', '--opt', 'novalue'])).toBeNull();
      expect(parseFinetuneArgs(['--strategy', 'td', '--steps', '0'])).toBeNull();
      expect(await main(['--strategy', 'fixed', '--train', FIXTURES, '--models', path.join(tmp, 'models'), '--no-eval', '--opt', 'bogus=1', '--out', path.join(tmp, 'x')])).toBe(2);
    } finally {
      [console.error, console.log] = [origErr, origLog];
    }
    expect(errors[0]).toMatch(/--strategy must be one of fixed, bdl, td, got nope/);
    expect(errors[1]).toMatch(/--opt needs name=value/);
    expect(errors[2]).toMatch(/--steps must be an integer ≥ 1/);
    expect(errors[3]).toMatch(/unknown option 'bogus'/);
    const o = parseFinetuneArgs(['--strategy', 'bdl', '--opt', 'trainS=true', '--opt', 'eta=0.5', '--opt', 'classWeights=uniform']);
    expect(o!.spec.options).toMatchObject({ trainS: true, eta: 0.5, classWeights: 'uniform', lr: 1e-4 });
    expect(parseFinetuneArgs(['--strategy', 'fixed', '--lr', '3e-4'])!.spec.options.lr).toBe(3e-4);
    expect(o!.out).toBe(path.join('runs', 'bdl-seed1'));
  });

  it('splits held-out pairs by seed and formats the comparison', () => {
    const s = splitHeldOut(10, 0.2, 1);
    expect(s.heldOut).toHaveLength(2);
    expect([...s.train, ...s.heldOut].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(splitHeldOut(10, 0.2, 1)).toEqual(s);
    expect(splitHeldOut(1, 0.5, 1)).toEqual({ train: [0], heldOut: [] });
    const m = Object.fromEntries(FUSION_METRIC_NAMES.map((k) => [k, 1])) as never;
    const rows = [
      { model: 'pretrained' as const, metrics: m, mIoU: 0.5, mAP50: 0.4 },
      { model: 'fine-tuned' as const, metrics: { ...(m as object), VIF: 0.97 } as never, mIoU: 0.52, mAP50: 0.41 },
    ];
    expect(comparisonTable(rows).split('\n')).toHaveLength(5);
    expect(goalCheck(rows)).toMatch(/MET — mIoU \+2\.00 points, VIF -3\.00 %, Qabf 0\.00 %/);
  });
});

describe('finetune --compare', () => {
  it('trains each arm per seed, scores them with the pretrained S, and reports Δ with intervals (resumable)', async () => {
    const out = path.join(tmp, 'compare');
    const args = ['--compare', '--arms', 'fusion-only,bdl', '--seeds', '4', '--steps', '2', '--batch', '1', '--crop', '64',
      '--train', FIXTURES, '--test', FIXTURES, '--models', path.join(tmp, 'models'), '--out', out, '--resamples', '30', '--eval-max-side', '128'];
    const lines: string[] = [];
    const orig = console.log;
    console.log = (m: string) => lines.push(m);
    try {
      expect(await main(args)).toBe(0);
      expect(await main(args)).toBe(0); // again: nothing retrained or rescored
    } finally {
      console.log = orig;
    }
    const report = JSON.parse(await readFile(path.join(out, 'compare.json'), 'utf8'));
    expect(report.reports.map((r: { arm: string }) => r.arm)).toEqual(['fusion-only', 'bdl']);
    const bdl = report.reports[1];
    expect(bdl.vsFusionOnly.mIoU.lo).toBeLessThanOrEqual(bdl.vsFusionOnly.mIoU.value);
    expect(bdl.vsFusionOnly.mIoU.hi).toBeGreaterThanOrEqual(bdl.vsFusionOnly.mIoU.value);
    expect(Number.isFinite(bdl.relativeToFusionOnly.VIF)).toBe(true);
    expect(lines.filter((l) => /already trained/.test(l))).toHaveLength(2);
    expect(lines.filter((l) => /scoring /.test(l))).toHaveLength(3); // pretrained + 2 runs, once each
    // The verdict follows the numbers: +1.5 points over fusion-only with VIF and Qabf within 5 % of the pretrained F.
    const met = bdl.vsFusionOnly.mIoU.value >= 1.5 && Math.abs(bdl.relativeToPretrained.VIF) <= 5 && Math.abs(bdl.relativeToPretrained.Qabf) <= 5;
    expect(await readFile(path.join(out, 'compare.md'), 'utf8')).toContain(`bdl: ${met ? 'MET' : 'not met'} (ΔmIoU vs fusion-only ${bdl.vsFusionOnly.mIoU.value.toFixed(2)} points)`);
    expect(await readFile(path.join(out, 'compare.svg'), 'utf8')).toMatch(/^<svg .*bdl task weights.*bdl coefficients c_k/s);
    // The same pairs across arms: a row per fixture pair, a cell per column (pretrained F and each arm).
    const figure = await readFile(path.join(out, 'compare-pairs.svg'), 'utf8');
    expect(figure.match(/<image /g)).toHaveLength(2 * 3);
    expect(figure).toContain('>bdl (seed 4)</text>');

    // Again with task-adapted scoring: nothing retrained, the frozen scores reused, every F
    // (the pretrained one included) scored once more with S adapted to it.
    lines.length = 0;
    console.log = (m: string) => lines.push(m);
    try {
      expect(await main([...args, '--adapt-task', '1'])).toBe(0);
    } finally {
      console.log = orig;
    }
    expect(lines.filter((l) => /adapting S's heads to /.test(l))).toHaveLength(3);
    expect(lines.filter((l) => /scoring .* with its adapted S/.test(l))).toHaveLength(3);
    const adapted = JSON.parse(await readFile(path.join(out, 'compare.json'), 'utf8')).reports[1].adapted;
    expect(adapted.perSeed).toHaveLength(1);
    expect(adapted.vsFusionOnly.mIoU.lo).toBeLessThanOrEqual(adapted.vsFusionOnly.mIoU.value);
    const md = await readFile(path.join(out, 'compare.md'), 'utf8');
    expect(md).toContain('Task-adapted: S\'s heads trained 1 steps');
    expect(md).toContain(`ΔmIoU vs fusion-only ${adapted.vsFusionOnly.mIoU.value.toFixed(2)} points, adapted S)`);
  });

  it('--validate scores variants on a held-out part of the training split and never reads the test split', async () => {
    const out = path.join(tmp, 'validate');
    const args = ['--compare', '--validate', '--arms', 'fusion-only', '--variant', 'bdl-pooled=bdl:cWindow=3', '--seeds', '4', '--steps', '2',
      '--batch', '1', '--crop', '64', '--train', FIXTURES, '--test', path.join(tmp, 'no-such-split'), '--models', path.join(tmp, 'models'),
      '--out', out, '--resamples', '30', '--eval-max-side', '128'];
    const lines: string[] = [];
    const orig = console.log;
    console.log = (m: string) => lines.push(m);
    try {
      expect(await main(args)).toBe(0);
    } finally {
      console.log = orig;
    }
    // The two fixture pairs are one block each: one to fine-tune on, one held out.
    const split = (part: string) => readdir(path.join(out, 'split', part, 'ir'));
    const [fit, held] = [await split('fit'), await split('held-out')];
    expect([fit.length, held.length]).toEqual([1, 1]);
    expect(fit[0]).not.toBe(held[0]);
    const heldBoxes = JSON.parse(await readFile(path.join(out, 'split', 'held-out', 'detection.json'), 'utf8'));
    expect(heldBoxes.images.map((im: { file: string }) => path.basename(im.file))).toEqual(held);
    expect(lines.some((l) => /validating on the training split/.test(l))).toBe(true);
    const report = JSON.parse(await readFile(path.join(out, 'compare.json'), 'utf8'));
    expect(report.reports.map((r: { arm: string }) => r.arm)).toEqual(['fusion-only', 'bdl-pooled']);
    expect(report.reports[1].label).toBe('bdl, cWindow=3');
    const history = JSON.parse(await readFile(path.join(out, 'bdl-pooled-seed4', 'history.json'), 'utf8'));
    expect(history.spec.options.cWindow).toBe(3);
    // A variant with an unknown strategy or a bad option is refused before anything runs.
    const errors: string[] = [];
    const origErr = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(await main([...args, '--variant', 'x=nope:a=1'])).not.toBe(0);
      expect(await main([...args, '--variant', 'y=bdl:cWindow=0'])).not.toBe(0);
    } finally {
      console.error = origErr;
    }
    expect(errors.join('\n')).toMatch(/unknown strategy 'nope'/);
    expect(errors.join('\n')).toMatch(/cWindow/);
  });
});
