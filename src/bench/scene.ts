/**
 * A synthetic, seeded IR/VI pair with labels and boxes, so that the benchmark needs no data
 * files (Node and browser alike) and every backend sees the same input.
 *
 * Timing does not depend on the image content except in detection decoding (how many peaks
 * pass the score threshold), so the scene is shaped like an MSRS frame: a road, warm people,
 * cars and a bicycle that are bright in IR and coloured in the visible image.
 */
import { Rng } from '../core/nn/random';
import type { GroundTruthBox, RawImage } from '../core/types';
import type { TrainPair } from '../core/train/batch';

/** The scene: sources as 8-bit images, labels (MSRS class per pixel) and boxes. */
export interface SyntheticPair {
  ir: RawImage;
  vi: RawImage;
  /** MSRS class index per pixel (0..8). */
  label: Uint8Array;
  /** Boxes `[x1,y1,x2,y2,cls]`, cls in DET_CLASSES order (person, bicycle, car). */
  boxes: GroundTruthBox[];
}

interface Thing {
  x1: number; y1: number; x2: number; y2: number;
  seg: number; det: number; ir: number; rgb: [number, number, number];
}

/** Builds the scene at `width`×`height` from `seed`. */
export function syntheticPair(width = 640, height = 480, seed = 7): SyntheticPair {
  const rng = new Rng(seed);
  const horizon = Math.round(height * 0.45);
  const things: Thing[] = [];
  // MSRS classes: 1 car, 2 person, 3 bike; detection classes: 0 person, 1 bicycle, 2 car.
  for (let i = 0; i < 4; i++) {
    const h = Math.round(height * rng.uniform(0.12, 0.3));
    const w = Math.round(h * 0.38);
    const x1 = rng.int(width - w);
    const y2 = Math.min(height - 1, horizon + Math.round(h * rng.uniform(0.6, 1.4)));
    things.push({ x1, y1: y2 - h, x2: x1 + w, y2, seg: 2, det: 0, ir: rng.uniform(0.8, 0.95), rgb: [rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.5), rng.uniform(0.1, 0.6)] });
  }
  for (let i = 0; i < 2; i++) {
    const w = Math.round(width * rng.uniform(0.15, 0.3));
    const h = Math.round(w * 0.45);
    const x1 = rng.int(width - w);
    const y2 = Math.min(height - 1, horizon + Math.round(h * rng.uniform(0.8, 1.6)));
    things.push({ x1, y1: y2 - h, x2: x1 + w, y2, seg: 1, det: 2, ir: rng.uniform(0.55, 0.7), rgb: [rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.9)] });
  }
  {
    const w = Math.round(width * 0.09);
    const h = Math.round(w * 0.7);
    const x1 = rng.int(width - w);
    const y2 = Math.min(height - 1, horizon + 2 * h);
    things.push({ x1, y1: y2 - h, x2: x1 + w, y2, seg: 3, det: 1, ir: 0.5, rgb: [0.1, 0.6, 0.2] });
  }

  const n = width * height;
  const ir = new Uint8Array(n);
  const vi = new Uint8Array(n * 3);
  const label = new Uint8Array(n);
  const clamp8 = (v: number): number => Math.max(0, Math.min(255, Math.round(v * 255)));
  for (let y = 0; y < height; y++) {
    const road = y >= horizon;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      // Background: cool sky/buildings above the horizon, road below, with texture.
      const tex = 0.04 * Math.sin(x * 0.21 + y * 0.07) + rng.normal(0, 0.02);
      let t = road ? 0.3 + 0.1 * (y - horizon) / (height - horizon) : 0.15 + 0.1 * y / horizon;
      let c: [number, number, number] = road ? [0.35, 0.35, 0.37] : [0.45, 0.55 + 0.2 * (1 - y / horizon), 0.8];
      let cls = 0;
      // Lane curb line: MSRS 'curve' (4).
      if (road && Math.abs(x - width * 0.5 - (y - horizon) * 0.6) < 3) {
        cls = 4;
        c = [0.9, 0.9, 0.85];
      }
      for (const th of things) {
        if (x >= th.x1 && x < th.x2 && y >= th.y1 && y < th.y2) {
          cls = th.seg;
          t = th.ir;
          c = th.rgb;
        }
      }
      ir[i] = clamp8(t + tex);
      vi[3 * i] = clamp8(c[0] + tex);
      vi[3 * i + 1] = clamp8(c[1] + tex);
      vi[3 * i + 2] = clamp8(c[2] + tex);
      label[i] = cls;
    }
  }
  return {
    ir: { width, height, channels: 1, data: ir },
    vi: { width, height, channels: 3, data: vi },
    label,
    boxes: things.map((t) => [t.x1, t.y1, t.x2, t.y2, t.det] as GroundTruthBox),
  };
}

/** The scene as a training pair (Y planes in [0,1]) for the crop sampler of the training loop. */
export function syntheticTrainPair(p: SyntheticPair, viY: Float32Array): TrainPair {
  const { width, height } = p.ir;
  const ir = new Float32Array(width * height);
  for (let i = 0; i < ir.length; i++) ir[i] = p.ir.data[i] / 255;
  return { stem: 'synthetic', width, height, ir, vi: viY, label: p.label, boxes: p.boxes };
}
