/**
 * A layer `y = f(x; w, b)` whose input and parameter gradients are computed only when something
 * asks for them.
 *
 * Why: tfjs runs a custom op's gradient function for all of its inputs at once, and a conv's
 * kernel gradient costs about as much as its forward pass (a depthwise one several times more).
 * When a task loss reaches F through a frozen S, none of S's kernel gradients is wanted. So the
 * layer is two custom ops: `data`, of x alone (w and b are constants to it), giving dx; and
 * `params`, of (w, b), whose value is 0 with the shape of y and is added to y, giving dW and db
 * from the x and y it saves. The tape prunes whichever op lies on no path to a wanted gradient.
 */
import * as tf from '@tensorflow/tfjs-core';

/** How to run a layer and take its gradients; every function gets the forward output `y`. */
export interface SplitGradLayer {
  forward(x: tf.Tensor4D): tf.Tensor4D;
  inputGrad(dy: tf.Tensor4D, y: tf.Tensor4D, xShape: number[]): tf.Tensor4D;
  /** [dW] or [dW, db]. */
  paramGrads(dy: tf.Tensor4D, y: tf.Tensor4D, x: tf.Tensor4D): tf.Tensor[];
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

/**
 * Applies `layer` to `x` with parameters `params` ([w] or [w, b], the tensors `layer` closes
 * over): the value of `forward(x)`, with gradients for x and for the parameters.
 */
export function applySplitGrad(layer: SplitGradLayer, x: tf.Tensor4D, params: tf.Tensor[]): tf.Tensor4D {
  // Outside a gradient tape (inference) the two custom ops would only add a zeros tensor and a
  // full-size add per layer: run the layer alone.
  if (!gradientTapeOn()) return layer.forward(x);
  return tf.tidy(() => {
    let y: tf.Tensor4D | null = null;
    const data = tf.customGrad((...args: unknown[]) => {
      const xi = args[0] as tf.Tensor4D;
      const save = args[1] as tf.GradSaveFunc;
      const out = layer.forward(xi);
      save([out]);
      y = out;
      return {
        value: out,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => layer.inputGrad(dy as tf.Tensor4D, saved[0] as tf.Tensor4D, xi.shape),
      };
    }) as unknown as (x: tf.Tensor4D) => tf.Tensor4D;
    const value = data(x);
    const out = y as unknown as tf.Tensor4D;
    const grads = tf.customGrad((...args: unknown[]) => {
      const save = args[params.length] as tf.GradSaveFunc;
      save([x, out]);
      return {
        value: tf.zerosLike(out),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          layer.paramGrads(dy as tf.Tensor4D, saved[1] as tf.Tensor4D, saved[0] as tf.Tensor4D),
      };
    }) as unknown as (...p: tf.Tensor[]) => tf.Tensor4D;
    return tf.add(value, grads(...params));
  });
}
