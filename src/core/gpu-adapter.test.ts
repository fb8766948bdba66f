import { describe, expect, it } from 'vitest';
import { gpuAdapterName, summariseGpuAdapter } from './gpu-adapter';

describe('GPU adapter summary', () => {
  it('knows CPU renderers by name or by the fallback flag, and names adapters without repeats', () => {
    const nvidia = summariseGpuAdapter({ vendor: 'nvidia', architecture: '', device: '', description: 'NVIDIA: 580.159.04' });
    expect(nvidia.isSoftware).toBe(false);
    expect(gpuAdapterName(nvidia)).toBe('nvidia / NVIDIA: 580.159.04');
    expect(summariseGpuAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe' }).isSoftware).toBe(true);
    expect(summariseGpuAdapter({ vendor: 'google', description: 'SwiftShader Device' }).isSoftware).toBe(true);
    expect(summariseGpuAdapter({ vendor: 'x', isFallbackAdapter: true }).isSoftware).toBe(true);
    expect(summariseGpuAdapter({ vendor: 'x' }, true).isSoftware).toBe(true);
    expect(gpuAdapterName(summariseGpuAdapter({ vendor: 'intel', architecture: 'intel' }))).toBe('intel');
    expect(gpuAdapterName(summariseGpuAdapter(undefined))).toBe('unnamed adapter');
  });
});
