import { describe, expect, it } from 'vitest';
import { checkTargets, formatResultsTable, type BackendResult } from './report';
import type { CaseResult } from './runner';

const leak = (growth = 0) => ({
  iterations: 100, tensorsBefore: 50, tensorsAfter: 50 + growth, bytesBefore: 1000, bytesAfter: 1000 + 4 * growth,
  tensorGrowth: growth, byteGrowth: 4 * growth, residueTensors: 0,
});
const ok = (id: CaseResult['id'], kind: CaseResult['kind'], medianMs: number, gmacPerS: number, pctOfRaw?: number, growth = 0): CaseResult => ({
  id, kind, label: id, status: 'ok', macs: gmacPerS * medianMs * 1e6, coldMs: medianMs * 2, medianMs, minMs: medianMs * 0.9,
  warmRuns: 100, gmacPerS, pctOfRaw, leak: leak(growth),
});

describe('bench report', () => {
  const wasm: BackendResult = {
    id: 'chromium-wasm', status: 'ok', cases: [
      ok('conv', 'ceiling', 100, 7, 100), ok('F', 'forward', 200, 5.6, 80), ok('S', 'forward', 300, 4.2, 60),
      ok('pipeline', 'pipeline', 450, 6.9), ok('bdl', 'train', 1200, 3, undefined, 2),
      { id: 'td', kind: 'train', label: 'td step', status: 'unavailable', reason: 'not available yet' },
    ],
  };
  const gpu: BackendResult = { id: 'chromium-webgpu', status: 'unavailable', reason: 'no adapter', cases: [] };

  it('checks each target and explains misses', () => {
    const t = checkTargets([wasm, gpu]);
    const by = (s: string) => t.find((x) => x.target.includes(s))!;
    expect(by('full pipeline').status).toBe('MISS');
    expect(by('bdl step').status).toBe('PASS');
    expect(by('F conv throughput').status).toBe('PASS');
    expect(by('S conv throughput').status).toBe('MISS');
    const z = by('zero tensor growth');
    expect(z.status).toBe('MISS');
    expect(z.detail).toContain('chromium-wasm/bdl: +2 tensors');
  });

  it('a target that was not measured is a MISS with the reason', () => {
    const t = checkTargets([gpu]);
    expect(t[0].status).toBe('MISS');
    expect(t[0].detail).toContain('not measured');
  });

  it('keeps rows for unavailable backends and cases', () => {
    const s = formatResultsTable([wasm, gpu]);
    expect(s).toContain('chromium-webgpu  UNAVAILABLE: no adapter');
    expect(s).toMatch(/td step\s+n\/a: not available yet/);
    expect(s).toMatch(/raw|conv/);
  });
});
