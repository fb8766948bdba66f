/**
 * The task losses of `task-losses.ts` as a few WebGPU programs of ours each, forward and
 * backward: the class-weighted cross-entropy, CenterNet's focal heat-map loss and the GIoU box
 * loss. As tfjs composites they are about two hundred dispatches a step (forward and gradient);
 * here each is a per-element program, a sum, a division and one gradient program. Same maths,
 * the same tie rules as tfjs's gradients (min and max pass the gradient to the first argument
 * on ties; relu, step and relu6 as tfjs takes them); the Dawn tests hold them against the
 * composites on CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NUM_DET_CLASSES } from '../types';
import type { DetectionTargetTensors } from '../detect/centernet';
import { runProgram } from '../nn/webgpu-programs';

/** `num[0] / max(num[1], floor)` of a 2-vector of sums, as a scalar (one program). */
function ratio(sums: tf.Tensor, floor: number, negate = false): tf.Scalar {
  return tf.reshape(runProgram({
    key: `ratio_${negate ? 'neg' : 'pos'}`,
    wgsl: `fn main(index : i32) { if (index < uniforms.size) {
      setOutputAtIndex(index, ${negate ? '-' : ''}getS(0) / max(getS(1), uniforms.floor)); } }`,
    inputs: { s: sums }, outputShape: [1], uniforms: { floor },
  }), []) as tf.Scalar;
}

/**
 * Σ along the rows of a [2, N] tensor: [2]. (Laid out so, the sum is over the innermost axis:
 * summing an [N, 2] over N transposes it first, past the workgroups a dispatch may have for
 * millions of pixels.)
 */
const rowSums = (t: tf.Tensor): tf.Tensor => tf.sum(t, 1);

const SOFTPLUS = 'fn softplus(x : f32) -> f32 { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }';

// ---------------------------------------------------------------------------------------------
// Segmentation: class-weighted cross-entropy

const CE_FORWARD = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let p = index % uniforms.outShape[1];
      let c = uniforms.zShape[1];
      let l = i32(getLabels(p));
      var out = 0.0;
      if (l >= 0 && l < c) {
        let w = getWeights(l);
        if (index >= uniforms.outShape[1]) {
          out = w;
        } else {
          var m = getZ(p, 0);
          for (var k = 1; k < c; k = k + 1) { m = max(m, getZ(p, k)); }
          var s = 0.0;
          for (var k = 0; k < c; k = k + 1) { s = s + exp(getZ(p, k) - m); }
          out = w * (m + log(s) - getZ(p, l));
        }
      }
      setOutputAtIndex(index, out);
    }
  }`;

const CE_BACKWARD = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let coords = getCoordsFromIndex(index);
      let p = coords[0];
      let j = coords[1];
      let c = uniforms.zShape[1];
      let l = i32(getLabels(p));
      var out = 0.0;
      if (l >= 0 && l < c) {
        var m = getZ(p, 0);
        for (var k = 1; k < c; k = k + 1) { m = max(m, getZ(p, k)); }
        var s = 0.0;
        for (var k = 0; k < c; k = k + 1) { s = s + exp(getZ(p, k) - m); }
        let softmax = exp(getZ(p, j) - m) / s;
        out = getDy(0) * getWeights(l) / max(getSums(1), 1e-12) * (softmax - select(0.0, 1.0, j == l));
      }
      setOutputAtIndex(index, out);
    }
  }`;

/** `segmentationLoss` (class-weighted CE; labels outside 0..C−1 ignored) on WebGPU. */
export function segmentationLossWebgpu(logits: tf.Tensor4D, labels: tf.Tensor3D, classWeights: readonly number[] | undefined): tf.Scalar {
  const [b, h, w, c] = logits.shape;
  const n = b * h * w;
  const op = tf.customGrad((...args: unknown[]) => {
    const z = tf.reshape(args[0] as tf.Tensor, [n, c]);
    // Made here and saved: the gradient runs after the caller's scopes have ended.
    const lab = tf.reshape(labels, [n]);
    const weights = tf.tensor1d(classWeights ? [...classWeights] : new Array<number>(c).fill(1));
    const sums = rowSums(runProgram({ key: 'ce_forward', wgsl: CE_FORWARD, inputs: { z, labels: lab, weights }, outputShape: [2, n] }));
    (args[1] as tf.GradSaveFunc)([z, lab, weights, sums]);
    return {
      value: ratio(sums, 1e-12),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, labs, ws, ss] = saved;
        return tf.reshape(runProgram({
          key: 'ce_backward', wgsl: CE_BACKWARD, inputs: { z: zs, labels: labs, weights: ws, sums: ss, dy: tf.reshape(dy, [1]) },
          outputShape: [n, c],
        }), [b, h, w, c]);
      },
    };
  }) as unknown as (x: tf.Tensor) => tf.Scalar;
  return op(logits);
}

// ---------------------------------------------------------------------------------------------
// Detection: CenterNet's focal heat-map loss and the GIoU box loss

// The heat map's per-element term (pos·(1−p)²·log p + (1−pos)·(1−g)⁴·p²·log(1−p)) and whether
// the element is a centre; the loss is −Σ term / max(Σ pos, 1).
const HEAT_COMMON = `
  ${SOFTPLUS}
  fn sigmoid(x : f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
  // Element e of the [B,h,w,3] heat map, read from the 7-channel head.
  fn headAt(e : i32) -> vec2<f32> {
    let nc = ${NUM_DET_CLASSES};
    let cell = e / nc;
    let k = e % nc;
    let hw = uniforms.detShape[1] * uniforms.detShape[2];
    let bi = cell / hw;
    let yx = cell % hw;
    let y = yx / uniforms.detShape[2];
    let x = yx % uniforms.detShape[2];
    return vec2<f32>(getDet(bi, y, x, k), getGt(bi, y, x, k));
  }`;

const HEAT_FORWARD = `
  ${HEAT_COMMON}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let v = headAt(index % uniforms.outShape[1]);
      let z = v.x;
      let g = v.y;
      let pos = g >= ${1 - 1e-5};
      var out = select(0.0, 1.0, pos);
      if (index < uniforms.outShape[1]) {
        let p = sigmoid(z);
        let q = sigmoid(-z);
        if (pos) {
          out = q * q * (-softplus(-z));
        } else {
          let nw = (1.0 - g) * (1.0 - g) * (1.0 - g) * (1.0 - g);
          out = nw * p * p * (-softplus(z));
        }
      }
      setOutputAtIndex(index, out);
    }
  }`;

// The box term m·(1 − GIoU) of a cell from the relu'd predicted and the true side distances.
const GIOU_COMMON = `
  const EPS = 1e-7;
  struct Giou { i : f32, u : f32, h : f32, iw : f32, ih : f32, hw : f32, hh : f32, giou : f32 }
  fn giouOf(p : vec4<f32>, g : vec4<f32>) -> Giou {
    var r : Giou;
    r.iw = min(p.x, g.x) + min(p.z, g.z);
    r.ih = min(p.y, g.y) + min(p.w, g.w);
    r.hw = max(p.x, g.x) + max(p.z, g.z);
    r.hh = max(p.y, g.y) + max(p.w, g.w);
    r.i = r.iw * r.ih;
    r.h = r.hw * r.hh;
    r.u = (p.x + p.z) * (p.y + p.w) + (g.x + g.z) * (g.y + g.w) - r.i;
    r.giou = r.i / (r.u + EPS) - (r.h - r.u) / (r.h + EPS);
    return r;
  }
  fn cellCoords(cell : i32) -> vec3<i32> {
    let hw = uniforms.detShape[1] * uniforms.detShape[2];
    let yx = cell % hw;
    return vec3<i32>(cell / hw, yx / uniforms.detShape[2], yx % uniforms.detShape[2]);
  }
  fn predAt(c : vec3<i32>) -> vec4<f32> {
    let nc = ${NUM_DET_CLASSES};
    return vec4<f32>(getDet(c.x, c.y, c.z, nc), getDet(c.x, c.y, c.z, nc + 1), getDet(c.x, c.y, c.z, nc + 2), getDet(c.x, c.y, c.z, nc + 3));
  }
  fn boxAt(c : vec3<i32>) -> vec4<f32> {
    return vec4<f32>(getBox(c.x, c.y, c.z, 0), getBox(c.x, c.y, c.z, 1), getBox(c.x, c.y, c.z, 2), getBox(c.x, c.y, c.z, 3));
  }`;

const BOX_FORWARD = `
  ${GIOU_COMMON}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let c = cellCoords(index % uniforms.outShape[1]);
      let m = getMask(c.x, c.y, c.z, 0);
      var out = m;
      if (index < uniforms.outShape[1]) {
        out = m * (1.0 - giouOf(max(predAt(c), vec4<f32>(0.0)), boxAt(c)).giou);
      }
      setOutputAtIndex(index, out);
    }
  }`;

// dL/d(head) for every channel: the heat channels from the focal term (scaled by −dyHeat / nPos),
// the box channels from GIoU (scaled by −dyBox·m / M); the other loss's channels get 0.
const DET_BACKWARD = `
  ${HEAT_COMMON}
  ${GIOU_COMMON}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let coords = getCoordsFromIndex(index);
      let nc = ${NUM_DET_CLASSES};
      let k = coords[3];
      var out = 0.0;
      if (k < nc && uniforms.heat > 0.5) {
        let z = getDet(coords[0], coords[1], coords[2], k);
        let g = getGt(coords[0], coords[1], coords[2], k);
        let p = sigmoid(z);
        let q = sigmoid(-z);
        var d = 0.0;
        if (g >= ${1 - 1e-5}) {
          d = q * q * q - 2.0 * p * q * q * (-softplus(-z));
        } else {
          let nw = (1.0 - g) * (1.0 - g) * (1.0 - g) * (1.0 - g);
          d = nw * (2.0 * p * p * q * (-softplus(z)) - p * p * p);
        }
        out = -getDy(0) * d / max(getSums(1), 1.0);
      }
      if (k >= nc && uniforms.heat < 0.5) {
        let c = vec3<i32>(coords[0], coords[1], coords[2]);
        let raw = predAt(c);
        let p = max(raw, vec4<f32>(0.0));
        let g = boxAt(c);
        let r = giouOf(p, g);
        let gi = 1.0 / (r.u + EPS) + r.i / ((r.u + EPS) * (r.u + EPS)) - 1.0 / (r.h + EPS);
        let ga = -r.i / ((r.u + EPS) * (r.u + EPS)) + 1.0 / (r.h + EPS);
        let gh = -(r.u + EPS) / ((r.h + EPS) * (r.h + EPS));
        let j = k - nc;
        var dg = 0.0;
        if (j == 0 || j == 2) {
          let mine = select(p.z, p.x, j == 0);
          let theirs = select(g.z, g.x, j == 0);
          dg = gi * r.ih * select(0.0, 1.0, mine <= theirs) + ga * (p.y + p.w) + gh * r.hh * select(0.0, 1.0, mine >= theirs);
        } else {
          let mine = select(p.w, p.y, j == 1);
          let theirs = select(g.w, g.y, j == 1);
          dg = gi * r.iw * select(0.0, 1.0, mine <= theirs) + ga * (p.x + p.z) + gh * r.hw * select(0.0, 1.0, mine >= theirs);
        }
        let rawJ = select(select(raw.w, raw.z, j == 2), select(raw.y, raw.x, j == 0), j < 2);
        let m = getMask(c.x, c.y, c.z, 0);
        out = -getDy(0) * m * dg * select(0.0, 1.0, rawJ > 0.0) / max(getSums(1), 1.0);
      }
      setOutputAtIndex(index, out);
    }
  }`;

/** `detectionLossTerms`' heat and box terms on WebGPU: a few programs each way. */
export function detectionLossesWebgpu(det: tf.Tensor4D, targets: DetectionTargetTensors): { heat: tf.Scalar; box: tf.Scalar } {
  const [b, h, w] = det.shape;
  const cells = b * h * w;
  const { heatmap: gt, box, mask } = targets;
  const term = (which: 'heat' | 'box') => tf.customGrad((...args: unknown[]) => {
    const x = args[0] as tf.Tensor4D;
    const sums = rowSums(which === 'heat'
      ? runProgram({ key: 'heat_forward', wgsl: HEAT_FORWARD, inputs: { det: x, gt }, outputShape: [2, cells * NUM_DET_CLASSES] })
      : runProgram({ key: 'box_forward', wgsl: BOX_FORWARD, inputs: { det: x, box, mask }, outputShape: [2, cells] }));
    (args[1] as tf.GradSaveFunc)([x, sums]);
    return {
      value: ratio(sums, 1, which === 'heat'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runProgram({
        key: 'det_backward', wgsl: DET_BACKWARD,
        inputs: { det: saved[0], gt, box, mask, sums: saved[1], dy: tf.reshape(dy, [1]) },
        outputShape: [...det.shape], uniforms: { heat: which === 'heat' ? 1 : 0 },
      }),
    };
  }) as unknown as (x: tf.Tensor) => tf.Scalar;
  return { heat: term('heat')(det), box: term('box')(det) };
}
