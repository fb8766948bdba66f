/**
 * Multiply-adds of the kernels a piece of work really ran, from a `tf.profile` record. Used for
 * the fine-tune steps, whose work (forward passes, gradient convolutions, loss filters, the
 * strategies' extra passes) has no closed form like the models' `macs()`. Pure: it reads shapes.
 */

/** The part of tfjs's profile record (`tf.profile(...).kernels[i]`) this reads. */
export interface KernelShapes {
  name: string;
  inputShapes: (number[] | null | undefined)[];
  outputShapes: (number[] | null | undefined)[];
}

const prod = (s: readonly number[] | null | undefined): number => (s ? s.reduce((a, b) => a * b, 1) : 0);

/**
 * Multiply-adds of one kernel call: convolutions (forward, and tfjs's own input/filter
 * gradients), depthwise convolutions and matrix products; 0 for everything else (element-wise
 * work, reductions, copies).
 *
 * Shapes follow the kernels' input order in tfjs 4: Conv2D / FusedConv2D `{x, filter, …}`;
 * Conv2DBackpropInput `{dy, filter}`; Conv2DBackpropFilter `{x, dy}`; depthwise likewise;
 * BatchMatMul / _FusedMatMul `{a, b, …}`.
 */
export function kernelMacs(k: KernelShapes): number {
  const [in0, in1] = k.inputShapes;
  const out = k.outputShapes[0];
  switch (k.name) {
    case 'Conv2D':
    case 'FusedConv2D': // out elements × (kh·kw·Cin)
      return in1 && out ? prod(out) * in1[0] * in1[1] * in1[2] : 0;
    case 'Conv2DBackpropInput': // dy elements × (kh·kw·Cin)
      return in0 && in1 ? prod(in0) * in1[0] * in1[1] * in1[2] : 0;
    case 'Conv2DBackpropFilter': // dy elements × (kh·kw·Cin), filter = output [kh,kw,Cin,Cout]
      return in1 && out ? prod(in1) * out[0] * out[1] * out[2] : 0;
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D': // out elements × (kh·kw)
      return in1 && out ? prod(out) * in1[0] * in1[1] : 0;
    case 'DepthwiseConv2dNativeBackpropInput': // dx elements × kh·kw·mult
      return in1 && out ? prod(out) * in1[0] * in1[1] * in1[3] : 0;
    case 'DepthwiseConv2dNativeBackpropFilter': // dy elements × kh·kw
      return in1 && out ? prod(in1) * out[0] * out[1] : 0;
    case 'BatchMatMul':
    case '_FusedMatMul': {
      // out [..., M, N]; a's last two dims hold M·K whichever way it is transposed.
      if (!in0 || !out || in0.length < 2 || out.length < 2) return 0;
      const m = out[out.length - 2];
      const k2 = (in0[in0.length - 1] * in0[in0.length - 2]) / m;
      return prod(out) * k2;
    }
    default:
      return 0;
  }
}

/** Sum of {@link kernelMacs} over a profile's kernels. */
export function profileMacs(kernels: readonly KernelShapes[]): number {
  let n = 0;
  for (const k of kernels) n += kernelMacs(k);
  return n;
}
