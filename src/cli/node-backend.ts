/**
 * Registers the tfjs backends available in Node (WASM with SIMD, and CPU) and picks one.
 * Entry points and tests import this; the core never chooses a backend.
 */
import * as tf from '@tensorflow/tfjs-core';
// The umbrella package registers all gradients and chained ops on tfjs-core (tfjs-core alone does not).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');

/** Switches tfjs to `name` ('wasm' or 'cpu') and waits until it is ready. */
export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}
