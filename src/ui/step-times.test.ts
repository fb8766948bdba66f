import { describe, expect, it } from 'vitest';
import { fasterBackend, recordStepTime } from './step-times';

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('step times per backend', () => {
  const work = { strategy: 'bdl', batch: 4, crop: 128 };
  it('says WASM was faster when WebGPU steps take over 10 % longer for the same work', () => {
    const s = memoryStorage();
    recordStepTime({ ...work, backend: 'wasm', msPerStep: 900, at: 1 }, s);
    expect(fasterBackend({ ...work, backend: 'webgpu', msPerStep: 1200 }, s)?.backend).toBe('wasm');
    expect(fasterBackend({ ...work, backend: 'webgpu', msPerStep: 950 }, s)).toBeNull();
    expect(fasterBackend({ ...work, crop: 256, backend: 'webgpu', msPerStep: 5000 }, s)).toBeNull();
    expect(fasterBackend({ ...work, backend: 'wasm', msPerStep: 5000 }, s)).toBeNull();
  });
  it('keeps the newest time per backend and work, and ignores junk in storage', () => {
    const s = memoryStorage();
    recordStepTime({ ...work, backend: 'wasm', msPerStep: 900, at: 1 }, s);
    recordStepTime({ ...work, backend: 'wasm', msPerStep: 2000, at: 2 }, s);
    expect(fasterBackend({ ...work, backend: 'webgpu', msPerStep: 1200 }, s)).toBeNull();
    s.setItem('fusion-playground.step-times', '{"not": "a list"');
    expect(fasterBackend({ ...work, backend: 'webgpu', msPerStep: 1200 }, s)).toBeNull();
    recordStepTime({ ...work, backend: 'wasm', msPerStep: NaN, at: 3 }, s);
    expect(s.getItem('fusion-playground.step-times')).toBe('{"not": "a list"');
  });
});
