/**
 * Messages of the browser bench: the Node CLI → page (URL query), page ↔ worker, and what the
 * page leaves in `window.__bench` for the CLI to read. Types only.
 */
import type { CaseId } from './cases';
import type { PolicyOverrides } from './policy';
import type { BackendResult, BenchBackendId } from './report';

/** What the CLI asks of one page load (JSON in the `config` query parameter). */
export interface BrowserBenchConfig {
  id: BenchBackendId;
  overrides: PolicyOverrides;
  /** Subset of cases (default all). */
  only?: CaseId[];
  /**
   * What-if for WASM: XNNPACK threads to run instead of the app's one per core (see
   * `setWasmThreads` in worker/backend.ts). Off by default: the bench measures what the app does.
   */
  wasmThreads?: number;
}

/** Page → worker. */
export interface BenchStartMessage {
  type: 'start';
  config: BrowserBenchConfig;
  /** Absolute URL of the `models/` folder (ends in '/'). */
  modelsBase: string;
}

/** Worker → page. */
export type BenchWorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'result'; result: BackendResult };

/** `window.__bench`, polled by the CLI. */
export interface BenchPageState {
  done: boolean;
  result?: BackendResult;
  /** Set when the page or worker failed outside the cases. */
  error?: string;
}
