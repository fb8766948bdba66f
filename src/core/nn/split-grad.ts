/**
 * A layer `y = f(x; w, b)` with its own gradient, whose parameter gradients are computed only
 * when something asks for them.
 *
 * Why: tfjs runs a custom op's gradient function for all of its inputs at once, and a conv's
 * kernel gradient costs about as much as its forward pass (a depthwise one several times more).
 * When a task loss reaches F through a frozen S, none of S's kernel gradients is wanted. So the
 * layer is one custom op of x alone when none of its parameters is a gradient target of the
 * enclosing {@link variableGradsOf}, and one custom op of (x, w, b) otherwise: one kernel node
 * per layer either way, and the shared pre-activation gradient is computed once.
 */
import * as tf from '@tensorflow/tfjs-core';

/** How to run a layer and take its gradients. */
export interface SplitGradLayer {
  forward(x: tf.Tensor4D): tf.Tensor4D;
  /** dL/dz at the pre-activation from dL/dy and the saved output y. */
  preActivationGrad(dy: tf.Tensor4D, y: tf.Tensor4D): tf.Tensor4D;
  inputGrad(dz: tf.Tensor4D, xShape: number[]): tf.Tensor4D;
  /** [dW] or [dW, db]. */
  paramGrads(dz: tf.Tensor4D, x: tf.Tensor4D): tf.Tensor[];
}

/**
 * Whether tfjs is recording for a gradient (inside `tf.grad`, `variableGrads`, …). The engine
 * knows but does not export it; if a tfjs version lacks the method, assume it is on (correct,
 * only slower).
 */
export function gradientTapeOn(): boolean {
  const engine = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof engine.isTapeOn === 'function' ? engine.isTapeOn() : true;
}

// Ids of the variables the innermost `variableGradsOf` differentiates for; null outside one
// (then every parameter counts as wanted: `tf.grad` over plain tensors, tests).
let targets: Set<number> | null = null;

/**
 * `tf.variableGrads(f, vars)`, telling the layers inside `f` which parameters are wanted, so a
 * layer whose parameters are not among `vars` records no parameter gradient at all.
 */
export function variableGradsOf(f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const prev = targets;
  targets = new Set(vars.map((v) => v.id));
  try {
    return tf.variableGrads(f, vars);
  } finally {
    targets = prev;
  }
}

/** Whether the gradient of any of `params` is wanted by the enclosing {@link variableGradsOf}. */
export function paramsWanted(params: readonly tf.Tensor[]): boolean {
  const t = targets;
  return t === null || params.some((p) => t.has(p.id));
}

/**
 * Applies `layer` to `x` with parameters `params` ([w] or [w, b], the tensors `layer` closes
 * over): the value of `forward(x)`, with gradients for x, and for the parameters when wanted.
 */
export function applySplitGrad(layer: SplitGradLayer, x: tf.Tensor4D, params: tf.Tensor[]): tf.Tensor4D {
  // Outside a gradient tape (inference) there is nothing to record: run the layer alone.
  if (!gradientTapeOn()) return layer.forward(x);
  const withParams = paramsWanted(params);
  const op = tf.customGrad((...args: unknown[]) => {
    const xi = args[0] as tf.Tensor4D;
    const save = args[withParams ? params.length + 1 : 1] as tf.GradSaveFunc;
    const y = layer.forward(xi);
    save(withParams ? [xi, y] : [y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const out = saved[saved.length - 1] as tf.Tensor4D;
        const dz = layer.preActivationGrad(dy as tf.Tensor4D, out);
        const dx = layer.inputGrad(dz, xi.shape);
        return withParams ? [dx, ...layer.paramGrads(dz, saved[0] as tf.Tensor4D)] : dx;
      },
    };
  }) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor4D;
  return withParams ? op(x, ...params) : op(x);
}
