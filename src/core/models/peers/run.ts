/**
 * A peer on a pair, tile by tile: the method's inputs, its network on overlapping tiles (each
 * with the network's reach as margin, so every output pixel is what the whole image would give,
 * while no activation outgrows what a GPU binds at once), and its saved image.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from '../../types';
import type { PeerDef, PeerInput, PeerParams } from './types';

/** Tile side: TarDAL's widest layer (128 channels) stays below 40 MB of float32 per tile. */
export const PEER_TILE = 256;

function region(inp: PeerInput, width: number, y0: number, y1: number, x0: number, x1: number): Float32Array {
  const c = inp.channels, w = x1 - x0;
  const out = new Float32Array((y1 - y0) * w * c);
  for (let y = y0; y < y1; y++) out.set(inp.data.subarray((y * width + x0) * c, (y * width + x1) * c), (y - y0) * w * c);
  return out;
}

/**
 * The method's image of a pair of one size (the pipeline brings both to the infrared grid first).
 * @throws when the images differ in size.
 */
export async function runPeer(def: PeerDef, params: PeerParams, ir: RawImage, vi: RawImage, tile = PEER_TILE): Promise<RawImage> {
  if (ir.width !== vi.width || ir.height !== vi.height) {
    throw new Error(`${def.label} needs images of one size: infrared ${ir.width}x${ir.height}, visible ${vi.width}x${vi.height}`);
  }
  const { width, height } = ir;
  const inputs = def.inputs(ir, vi);
  const oc = def.outChannels;
  const out = new Float32Array(width * height * oc);
  for (let y0 = 0; y0 < height; y0 += tile) {
    for (let x0 = 0; x0 < width; x0 += tile) {
      const y1 = Math.min(height, y0 + tile), x1 = Math.min(width, x0 + tile);
      const py0 = Math.max(0, y0 - def.reach), py1 = Math.min(height, y1 + def.reach);
      const px0 = Math.max(0, x0 - def.reach), px1 = Math.min(width, x1 + def.reach);
      const ph = py1 - py0, pw = px1 - px0;
      const t = tf.tidy(() => def.net(params, inputs.map((inp) => tf.tensor4d(region(inp, width, py0, py1, px0, px1), [1, ph, pw, inp.channels]))));
      const v = (await t.data()) as Float32Array;
      t.dispose();
      for (let y = y0; y < y1; y++) {
        const from = ((y - py0) * pw + (x0 - px0)) * oc;
        out.set(v.subarray(from, from + (x1 - x0) * oc), (y * width + x0) * oc);
      }
    }
  }
  return def.output(out, ir, vi);
}
