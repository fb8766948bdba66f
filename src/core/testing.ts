/**
 * For the core's tests only: switch to a tfjs backend that the Vitest setup file
 * (`vitest.setup.ts`) has registered, so the core's tests need nothing from `src/cli/`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Switches tfjs to `name` and waits until it is ready. @throws if it cannot start. */
export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise (is it registered by vitest.setup.ts?)`);
  await tf.ready();
}
