/**
 * A published fusion network ("peer"), ported as a plain function over named parameters, with its
 * authors' reading and writing of images: `run` takes an infrared/visible pair as decoded and
 * returns the image the method's own script would have saved for it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec, RawImage } from '../../types';

/** One convolution of a peer: its weight names are `${name}/kernel` [k,k,cin,cout] and `${name}/bias`. */
export interface PeerConv {
  name: string;
  k: number;
  cin: number;
  cout: number;
  /** Depthwise (one k×k filter per channel, `cout` = `cin`). */
  depthwise?: boolean;
  /** Default true. */
  bias?: boolean;
}

/** Parameters of a peer, read from its converted weights (plain tensors: peers are not trained here). */
export type PeerParams = Record<string, tf.Tensor>;

export interface PeerDef {
  /** Short id, used by `--method` and as the run id suffix. */
  id: string;
  /** How people name the method, e.g. 'SeAFusion'. */
  label: string;
  /** Folder of the converted weights under `models/`. */
  folder: string;
  /** The paper, for tables and tooltips. */
  citation: string;
  /** Every convolution, in forward order (parameter names, shapes and multiply-adds come from it). */
  convs: readonly PeerConv[];
  /** Multiply-adds of one forward pass at `h`×`w`. */
  macs(h: number, w: number): number;
  /**
   * Fuses one pair as the method's script does, reading and writing 8-bit images with the same
   * library conversions. `ir` and `vi` have the same size. Returns an RGB image of that size.
   */
  run(params: PeerParams, ir: RawImage, vi: RawImage): Promise<RawImage>;
}

/** Parameter names and shapes of a peer's convolutions. */
export function peerParamSpecs(convs: readonly PeerConv[]): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (const c of convs) {
    specs.push({ name: `${c.name}/kernel`, shape: c.depthwise ? [c.k, c.k, 1, c.cin] : [c.k, c.k, c.cin, c.cout] });
    if (c.bias !== false) specs.push({ name: `${c.name}/bias`, shape: [c.cout] });
  }
  return specs;
}

/** Multiply-adds of convolutions that all run at the input's full resolution (the peers here have no strides). */
export function fullResolutionMacs(convs: readonly PeerConv[], h: number, w: number, times: (c: PeerConv) => number = () => 1): number {
  let perPixel = 0;
  for (const c of convs) perPixel += c.k * c.k * (c.depthwise ? c.cin : c.cin * c.cout) * times(c);
  return perPixel * h * w;
}
