// A WebGPU adapter as rounds record it and the UI names it. No tfjs here: the app's main process reads it too.

/** What the adapter says about itself (GPUAdapterInfo), plus whether it renders in software. */
export interface GpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
}

/** GPUAdapterInfo as Dawn reports it (every field may be empty). */
export interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** True for adapters that run on the CPU: the spec's fallback flag, or a known software rasteriser's name. */
export function isSoftwareAdapter(info: GpuAdapterInfoLike, fallbackFlag = false): boolean {
  if (fallbackFlag || info.isFallbackAdapter) return true;
  return SOFTWARE_NAMES.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

/** "SwiftShader (software)", "NVIDIA H100 80GB HBM3 (nvidia hopper)": the adapter in a few words. */
export function describeAdapter(a: GpuAdapter): string {
  const kind = [a.vendor, a.architecture].filter(Boolean).join(' ');
  if (a.software) {
    const name = SOFTWARE_NAMES.exec([a.description, a.architecture, a.device].join(' '))?.[0];
    const pretty = name && /swiftshader/i.test(name) ? 'SwiftShader' : name;
    return `${pretty ?? (a.description || kind || 'unknown adapter')} (software)`;
  }
  const title = a.description || a.device || kind || 'unknown adapter';
  return kind && title !== kind ? `${title} (${kind})` : title;
}

/**
 * A round's backend for the rounds panel, from the JSON the round stored: its name, and for webgpu the adapter
 * ("webgpu · SwiftShader (software)").
 */
export function roundBackendLabel(stored: { name?: unknown; adapter?: GpuAdapter } | null): string | null {
  if (!stored) return null;
  const name = String(stored.name ?? '');
  return stored.adapter ? `${name} · ${describeAdapter(stored.adapter)}` : name;
}
