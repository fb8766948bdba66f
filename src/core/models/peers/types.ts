/**
 * A published fusion network ("peer"), ported as a plain function over named parameters, with its
 * authors' reading and writing of images: `inputs` turns a pair into the network's input planes as
 * the method's script reads them, `net` is the network, `output` writes its values as the script
 * saves them. `runPeer` (run.ts) puts the three together, tile by tile.
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
  /** The paper, for tables and tooltips. */
  citation: string;
  /** Every convolution, in forward order (parameter names, shapes and multiply-adds come from it). */
  convs: readonly PeerConv[];
  /** Multiply-adds of one forward pass at `h`×`w`. */
  macs(h: number, w: number): number;
  /** The network's inputs from a pair of one size, each `[H·W·channels]` (row-major, channels last). */
  inputs(ir: RawImage, vi: RawImage): PeerInput[];
  /** The network on `[1,h,w,c]` inputs (any h, w), owned by the caller; intermediates freed. */
  net(params: PeerParams, inputs: tf.Tensor4D[]): tf.Tensor4D;
  /** Channels of `net`'s output. */
  outChannels: number;
  /**
   * How many pixels of padding the network's convolutions chain up (the 3×3 layers on the longest
   * path, and so on): a tile with this margin gives the same values as the whole image.
   */
  reach: number;
  /** The method's saved image (RGB, the pair's size) from the network's output `[H·W·outChannels]`. */
  output(values: Float32Array, ir: RawImage, vi: RawImage): RawImage;
}

/** One input plane set of a peer network. */
export interface PeerInput {
  data: Float32Array;
  channels: number;
}

/** Folder of a peer's converted weights under `models/` (as `convert_peers.py` writes it). */
export function peerFolder(id: string): string {
  return `peer-${id}`;
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
