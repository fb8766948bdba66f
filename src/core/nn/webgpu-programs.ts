/**
 * Our own WebGPU programs, run through tfjs's WebGPU backend: one dispatch where tfjs's own ops
 * would dispatch several.
 *
 * Why: tfjs spends a fixed time per dispatched program (encoding, binding, uniforms), so on a
 * GPU a chain of small element-wise ops costs per op, not per flop. S's hard-swish is four ops
 * forward and about nine backward; as one expression it is one program each way. These run only
 * on WebGPU; on every other backend the callers keep the composite of tfjs ops, so WASM and CPU
 * compute exactly what they did.
 *
 * A program is a plain object of the shape tfjs's backend compiles (`WebGPUProgram`): the
 * backend writes the WGSL header (bindings, uniforms, shape helpers such as
 * `getAByOutputIndex`, `setOutputAtIndex`) and calls our `main(index)` once per output element.
 * Only the core's tfjs-core is imported; the backend is reached through `tf.backend()`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs's WebGPU backend these programs use. */
interface WebGpuBackend {
  runWebGPUProgram(
    program: object, inputs: readonly tf.TensorInfo[], dtype: tf.DataType,
    uniforms?: { type: string; data: number[] }[],
  ): tf.TensorInfo;
}

/** The current backend, when it is tfjs's WebGPU backend. */
function webgpuBackend(): WebGpuBackend | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const b = tf.backend() as unknown as Partial<WebGpuBackend>;
  return typeof b.runWebGPUProgram === 'function' ? (b as WebGpuBackend) : null;
}

/** Whether our WebGPU programs run on the current backend (else callers take tfjs composites). */
export function webgpuPrograms(): boolean {
  return webgpuBackend() !== null;
}

const WORKGROUP = 64;

/** A flat, one-thread-per-output-element program (tfjs's `flatDispatchLayout`). */
function flatProgram(key: string, variableNames: string[], outputShape: number[], uniforms: string, body: string): object {
  const size = outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    workgroupSize: [WORKGROUP, 1, 1],
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / WORKGROUP), 1, 1],
    size: true,
    ...(uniforms ? { uniforms } : {}),
    getUserCode: () => body,
  };
}

const f32Uniforms = (values: readonly number[]) => values.map((v) => ({ type: 'float32', data: [v] }));

// ---------------------------------------------------------------------------------------------
// Element-wise expressions

/** An element-wise expression in WGSL: f32 inputs `a`, `b`, `c`, … (at most six) and uniforms `u0`, `u1`, …. */
export interface Expression {
  /** Unique name: it keys the compiled pipeline. */
  name: string;
  /** WGSL of the f32 result, e.g. `a * clamp(a + 3.0, 0.0, 6.0) * u0`. */
  wgsl: string;
}

const INPUT_NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

const PROGRAM_KERNEL = 'FpProgram';

/** A program of ours: its WGSL, inputs, output shape and f32 uniforms. */
export interface ProgramSpec {
  /** Unique per WGSL text: it keys the compiled pipeline. */
  key: string;
  /**
   * WGSL defining `fn main(index : i32)`, run once per output element. tfjs provides
   * `get<Name>(coords…)`, `get<Name>ByOutputIndex(index)`, `uniforms.<name>Shape`,
   * `getCoordsFromIndex(index)` (output coordinates), `uniforms.size` and `setOutputAtIndex`.
   */
  wgsl: string;
  /**
   * Inputs by WGSL name (a lower-case identifier, not `out`: tfjs names the output's shape
   * uniform `outShape`), float32 or int32 (read as f32).
   */
  inputs: Record<string, tf.Tensor>;
  outputShape: number[];
  /** f32 uniforms by name, `uniforms.<name>` in the WGSL; their values change without recompiling. */
  uniforms?: Record<string, number>;
}

interface ProgramAttrs {
  key: string;
  wgsl: string;
  outputShape: number[];
  inputNames: string[];
  uniformNames: string[];
  uniformValues: number[];
}

function programKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const a = args.attrs as unknown as ProgramAttrs;
  const uniforms = a.uniformNames.map((n) => `${n} : f32,`).join(' ');
  const program = flatProgram(`fp_${a.key}_u${a.uniformNames.length}`, a.inputNames, a.outputShape, uniforms, a.wgsl);
  const inputs = a.inputNames.map((n) => args.inputs[n]!);
  return (args.backend as WebGpuBackend).runWebGPUProgram(program, inputs, 'float32', f32Uniforms(a.uniformValues));
}

/** Runs one program of ours (see {@link ProgramSpec}). Call only where {@link webgpuPrograms} is true. */
export function runProgram(spec: ProgramSpec): tf.Tensor {
  if (!webgpuBackend()) throw new Error(`${spec.key}: our WebGPU programs need the WebGPU backend (have ${tf.getBackend()})`);
  const u = spec.uniforms ?? {};
  const attrs: ProgramAttrs = {
    key: spec.key, wgsl: spec.wgsl, outputShape: spec.outputShape, inputNames: Object.keys(spec.inputs),
    uniformNames: Object.keys(u), uniformValues: Object.values(u),
  };
  return tf.engine().runKernel(PROGRAM_KERNEL, spec.inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `expr` over `inputs` (broadcast against each other as tfjs does) as one WebGPU program.
 * Uniform values change without recompiling. Call only where {@link webgpuPrograms} is true.
 */
export function runExpression(expr: Expression, inputs: readonly tf.Tensor[], uniforms: readonly number[] = []): tf.Tensor {
  if (inputs.length > INPUT_NAMES.length) throw new Error(`${expr.name}: at most ${INPUT_NAMES.length} inputs`);
  const names = INPUT_NAMES.slice(0, inputs.length);
  const shape = inputs.map((t) => t.shape).reduce((s, t) => tf.backend_util.assertAndGetBroadcastShape(s, t), [] as number[]);
  const reads = names.map((n) => `let ${n} = get${n.toUpperCase()}ByOutputIndex(index);`).join('\n');
  const unis = uniforms.map((_, i) => `let u${i} = uniforms.u${i};`).join('\n');
  return runProgram({
    key: expr.name,
    wgsl: `
    fn main(index : i32) {
      if (index < uniforms.size) {
        ${reads}
        ${unis}
        setOutputAtIndex(index, ${expr.wgsl});
      }
    }`,
    inputs: Object.fromEntries(names.map((n, i) => [n, inputs[i]])),
    outputShape: shape,
    uniforms: Object.fromEntries(uniforms.map((v, i) => [`u${i}`, v])),
  });
}

/** A differentiable element-wise op: its forward expression and, per input, that of dL/d(input). */
export interface ExpressionOp {
  forward: Expression;
  /** Over the inputs and then `dy` (the next letter after the inputs). */
  grads: Expression[];
}

/**
 * `op` on `inputs` with its gradient, each one program (WebGPU only). A gradient of a
 * broadcast input is summed over the axes it was broadcast along.
 */
export function applyExpressionOp(op: ExpressionOp, inputs: tf.Tensor[], uniforms: readonly number[] = []): tf.Tensor {
  const f = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    (args[inputs.length] as tf.GradSaveFunc)(xs);
    const y = runExpression(op.forward, xs, uniforms);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => op.grads.map((g, i) => {
        const full = runExpression(g, [...saved, dy], uniforms);
        const axes = tf.backend_util.getReductionAxes(saved[i].shape, full.shape);
        return axes.length === 0 ? full : tf.reshape(tf.sum(full, axes), saved[i].shape);
      }),
    };
  }) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
  return f(...inputs);
}

// ---------------------------------------------------------------------------------------------
// The adjoint of bilinear upsampling

/**
 * dL/dx of `tf.image.resizeBilinear(x, [f·h, f·w], false, halfPixelCenters)` as one program:
 * each input pixel gathers the output pixels its weights reach, with the weights of tfjs's
 * WebGPU forward kernel (truncated source index, ceiling clamped to the last row), so it is the
 * exact adjoint of what ran forward.
 * @param dy [B, f·h, f·w, C]; @param xShape [B, h, w, C].
 */
export function resizeBilinearAdjoint(dy: tf.Tensor4D, xShape: readonly number[], f: number, halfPixelCenters: boolean): tf.Tensor4D {
  return runProgram({
    key: 'resize_bilinear_adjoint', wgsl: ADJOINT_WGSL, inputs: { dy }, outputShape: [...xShape],
    uniforms: { ratio: 1 / f, hp: halfPixelCenters ? 0.5 : 0 },
  }) as tf.Tensor4D;
}

/**
 * WGSL `weight(o, i, len)`: the weight of input row i (of `len`) in output row o of tfjs's WebGPU
 * bilinear resize, whose source index is `(o + hp)·ratio − hp`, truncated, with the next row
 * clamped to the last: what an exact adjoint of that kernel sums with.
 */
export function bilinearWeightWgsl(ratio: string, hp: string): string {
  return `
    fn weight(o : i32, i : i32, len : i32) -> f32 {
      let s = (f32(o) + ${hp}) * ${ratio} - ${hp};
      let i0 = i32(s);
      let i1 = min(len - 1, i32(ceil(s)));
      let l = s - f32(i0);
      var w = 0.0;
      if (i0 == i) { w = w + 1.0 - l; }
      if (i1 == i) { w = w + l; }
      return w;
    }`;
}

const ADJOINT_WGSL = `
    ${bilinearWeightWgsl('uniforms.ratio', 'uniforms.hp')}
    fn main(index : i32) {
      if (index < uniforms.size) {
        let c = getCoordsFromIndex(index);
        let h = uniforms.outShape[1];
        let w = uniforms.outShape[2];
        let f = uniforms.dyShape[1] / h;
        var sum = 0.0;
        for (var oy = max(0, (c[1] - 1) * f - 1); oy < min(uniforms.dyShape[1], (c[1] + 2) * f + 1); oy = oy + 1) {
          let wy = weight(oy, c[1], h);
          if (wy == 0.0) { continue; }
          for (var ox = max(0, (c[2] - 1) * f - 1); ox < min(uniforms.dyShape[2], (c[2] + 2) * f + 1); ox = ox + 1) {
            let wx = weight(ox, c[2], w);
            if (wx == 0.0) { continue; }
            sum = sum + wy * wx * getDy(c[0], oy, ox, c[3]);
          }
        }
        setOutputAtIndex(index, sum);
      }
    }`;

// Registered once per tfjs-core instance; the kernel exists only for the WebGPU backend.
if (!tf.getKernel(PROGRAM_KERNEL, 'webgpu')) {
  tf.registerKernel({ kernelName: PROGRAM_KERNEL, backendName: 'webgpu', kernelFunc: programKernel as unknown as tf.KernelFunc });
}
