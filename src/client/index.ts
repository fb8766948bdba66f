/**
 * The app's single compute worker. Only this module creates it; hooks wrap it.
 */
import { WorkerClient } from './worker-client';

export { WorkerClient, WorkerRestartedError } from './worker-client';
export type { CallOptions, ClientEvent, Progress, TrainCallOptions, TrainHandle } from './worker-client';

let client: WorkerClient | null = null;

/** The shared worker client (created on first use). */
export function getWorker(): WorkerClient {
  client ??= new WorkerClient(
    () => new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'fusion-worker' }),
  );
  return client;
}
