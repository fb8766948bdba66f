/**
 * Page script of `src/bench/bench.html`: starts the bench worker (tfjs runs in a module worker, as
 * in the app, so the numbers are the ones the app gets), relays its progress to the console and
 * leaves the result in `window.__bench` for the CLI (`src/cli/bench.ts`) to collect.
 */
import type { BenchPageState, BenchStartMessage, BenchWorkerMessage, BrowserBenchConfig } from './browser-protocol';

const state: BenchPageState = { done: false };
(window as unknown as { __bench: BenchPageState }).__bench = state;
const out = document.getElementById('out');

function show(line: string): void {
  console.log(`[bench] ${line}`);
  if (out) out.textContent += `\n${line}`;
}

function fail(message: string): void {
  state.error = message;
  state.done = true;
  show(`error: ${message}`);
}

try {
  const raw = new URLSearchParams(location.search).get('config');
  if (!raw) throw new Error('missing ?config=');
  const config = JSON.parse(raw) as BrowserBenchConfig;
  const worker = new Worker(new URL('./browser-worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<BenchWorkerMessage>) => {
    const m = e.data;
    if (m.type === 'log') show(m.line);
    else {
      state.result = m.result;
      state.done = true;
      show('done');
    }
  };
  worker.onerror = (e) => fail(`worker error: ${e.message || 'failed to load'}`);
  const msg: BenchStartMessage = { type: 'start', config, modelsBase: new URL('../models/', location.href).href };
  worker.postMessage(msg);
  show(`${config.id}: worker started (crossOriginIsolated ${String(crossOriginIsolated)})`);
} catch (e) {
  fail((e as Error).message);
}
