/**
 * The app's single compute worker. Only this module creates it; hooks wrap it.
 */
import { EngineClient } from './engine-client';

export { EngineClient, WorkerRestartedError } from './engine-client';
export type { CallOptions, ClientEvent, Progress, TrainCallOptions, TrainHandle } from './engine-client';

let client: EngineClient | null = null;

/** The shared engine client (created on first use). */
export function getEngine(): EngineClient {
  client ??= new EngineClient(
    () => new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'fusion-engine' }),
  );
  return client;
}
