/**
 * What the app and the CLI say about a WebGPU adapter: its names, and whether it is a CPU
 * renderer (SwiftShader, llvmpipe, WARP), which gives right answers slowly.
 */

/** A WebGPU adapter, as recorded. */
export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter (`isFallbackAdapter`, or a CPU renderer named in the info). */
  isSoftware: boolean;
}

/** The fields of WebGPU's `GPUAdapterInfo` read here (the core has no DOM types). */
export interface GpuAdapterInfoFields {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** @param isFallback the adapter's own (older) `isFallbackAdapter` flag, where the info lacks it. */
export function summariseGpuAdapter(info: GpuAdapterInfoFields | undefined, isFallback = false): GpuAdapterSummary {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  return {
    vendor, architecture, device, description,
    isSoftware: isFallback || info?.isFallbackAdapter === true || /swiftshader|llvmpipe|software|lavapipe|warp/.test(text),
  };
}

/** "vendor / architecture / device / description", the empty and repeated parts left out. */
export function gpuAdapterName(a: GpuAdapterSummary): string {
  const parts = [a.vendor, a.architecture, a.device, a.description].filter((s) => s !== '');
  return parts.length ? [...new Set(parts)].join(' / ') : 'unnamed adapter';
}
