import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseFuseArgs } from './fuse-args';

const base = ['--ir', 'I', '--vi', 'V', '--out', 'O'];

describe('fuse arguments', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('takes S\'s input scale in (0, 1] and refuses others, saying why', () => {
    expect(parseFuseArgs([...base, '--task-scale', '0.5'])?.taskScale).toBe(0.5);
    expect(parseFuseArgs(base)?.taskScale).toBeUndefined();
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    for (const bad of ['0', '1.5', 'x']) expect(parseFuseArgs([...base, '--task-scale', bad])).toBeNull();
    expect(err.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/--task-scale must be a number > 0, got 0/),
      expect.stringMatching(/--task-scale must be above 0 and at most 1, got 1\.5/),
      expect.stringMatching(/--task-scale must be a number > 0, got x/),
    ]);
  });

  it('runs on wasm, cpu or webgpu (Dawn), and names the choices otherwise', () => {
    expect(parseFuseArgs([...base, '--backend', 'webgpu'])?.backend).toBe('webgpu');
    expect(parseFuseArgs(base)?.backend).toBeUndefined();
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(parseFuseArgs([...base, '--backend', 'gpu'])).toBeNull();
    expect(String(err.mock.calls[0][0])).toMatch(/--backend must be one of wasm, cpu, webgpu, got gpu/);
  });
});
