// The WebGPU backend in Node: Dawn through the optional npm package `webgpu` (dawn.node) under
// @tensorflow/tfjs-backend-webgpu. Dawn reaches NVIDIA, AMD, Intel and Apple GPUs through Vulkan, Metal or D3D12
// with nothing else to install. A software adapter (SwiftShader, llvmpipe, WARP) is ~50x slower than wasm, so it is
// used only when asked for by name; tests point VK_ICD_FILENAMES at Chromium's SwiftShader to get one.
// Under dawn.node synchronous reads (dataSync, arraySync, bufferSync) throw: engine code reads with `await data()`.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describeAdapter, isSoftwareAdapter, type GpuAdapter, type GpuAdapterInfoLike } from './gpuAdapter';

// The few parts of the WebGPU API used here (the package's own types are optional like the package).
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor: object): Promise<unknown>;
}
interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface TfjsWebGpuModule {
  WebGPUBackend: new (device: unknown, adapterInfo?: GpuAdapterInfoLike) => tf.KernelBackend;
}
interface BufferManagerLike {
  freeBuffers: Map<string, { size: number; destroy(): void }[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
}
// tfjs's WebGPUBackend internals used to flush its deferred work and to empty its buffer pool.
interface WebGpuBackendLike {
  bufferManager: BufferManagerLike;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  memory(): { numBytesInGPU: number; numBytesAllocatedInGPU: number };
}

// `require` exists in the CommonJS builds (electron-vite main, tsx, Vitest); an ESM build would need createRequire.
function nodeRequire(): NodeRequire {
  if (typeof require === 'function') return require;
  return createRequire(import.meta.url);
}

// A variable specifier keeps bundlers and the type checker away from the optional package.
const DAWN_PACKAGE = 'webgpu';

let gpu: GpuLike | null = null;

async function loadDawn(): Promise<GpuLike> {
  if (gpu) return gpu;
  let dawn: DawnModule;
  try {
    dawn = (await import(DAWN_PACKAGE)) as DawnModule;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    throw new Error(/Cannot find (module|package)/.test(text) ? `the optional package "webgpu" is not installed` : text);
  }
  // tfjs-backend-webgpu uses the WebGPU enums (GPUBufferUsage, GPUMapMode, ...) as globals.
  const scope = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in scope)) scope[name] = value;
  gpu = dawn.create([]);
  return gpu;
}

const softwareOnly = (a: GpuAdapter) => new Error(`the only adapter is ${describeAdapter(a)}, used only when named with --backend webgpu`);

/**
 * Linux: whether the Vulkan loader has a driver manifest to find (an env override, or a .json in an icd.d folder
 * where the loader looks). Without one Dawn finds nothing, after printing warnings, so the automatic order skips it.
 * Other platforms: true (Metal and D3D12 come with the system).
 */
export function vulkanDriverListed(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux') return true;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES) return true;
  const roots = [
    ...(env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':'),
    '/etc',
    ...(env.XDG_DATA_DIRS ?? '').split(':'),
    '/usr/local/share',
    '/usr/share',
    env.XDG_CONFIG_HOME ?? (env.HOME ? join(env.HOME, '.config') : ''),
    env.XDG_DATA_HOME ?? (env.HOME ? join(env.HOME, '.local', 'share') : ''),
  ];
  return roots.filter(Boolean).some((root) => {
    try {
      return readdirSync(join(root, 'vulkan', 'icd.d')).some((file) => file.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

let tfjsWebGpu: TfjsWebGpuModule | null = null;
let adapterInUse: GpuAdapter | null = null;

/** The adapter the 'webgpu' tfjs backend of this thread runs on, or null before startWebGpu. */
export function webGpuAdapter(): GpuAdapter | null {
  return adapterInUse;
}

/**
 * Finds an adapter, registers tfjs's 'webgpu' backend on it and makes it current. Without `allowSoftware`
 * a software adapter is refused (the automatic order skips it). Throws a plain Error saying why otherwise.
 */
export async function startWebGpu(options: { allowSoftware: boolean }): Promise<GpuAdapter> {
  if (adapterInUse && tf.findBackendFactory('webgpu')) {
    if (adapterInUse.software && !options.allowSoftware) throw softwareOnly(adapterInUse);
    await tf.setBackend('webgpu');
    return adapterInUse;
  }
  const navigatorGpu = await loadDawn();
  const adapter = await navigatorGpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('Dawn found no GPU adapter');
  const info = adapter.info ?? {};
  const found: GpuAdapter = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(info, adapter.isFallbackAdapter),
  };
  if (found.software && !options.allowSoftware) throw softwareOnly(found);

  // The package registers its kernels on import, and its own backend factory only when navigator.gpu already
  // exists: importing it first lets this module register a factory on the adapter chosen here instead.
  tfjsWebGpu ??= nodeRequire()('@tensorflow/tfjs-backend-webgpu') as TfjsWebGpuModule;
  const scope = globalThis as { navigator?: object };
  if (!scope.navigator) scope.navigator = {};
  // WebGPUBackend's constructor checks navigator.gpu.
  Object.defineProperty(scope.navigator, 'gpu', { value: navigatorGpu, configurable: true, writable: true });

  const { WebGPUBackend } = tfjsWebGpu;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: ['timestamp-query'].filter((f) => adapter.features.has(f)),
      // tfjs sizes its workgroups and buffers from these; the defaults are far below what GPUs offer.
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device, info);
  });
  const ok = await tf.setBackend('webgpu');
  if (!ok || tf.getBackend() !== 'webgpu') throw new Error('the WebGPU device could not be created');
  await tf.ready();
  adapterInUse = found;
  return found;
}

function activeWebGpuBackend(): WebGpuBackendLike | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as WebGpuBackendLike) : null;
}

/**
 * Submits the commands tfjs has batched up: it releases the buffers of disposed tensors and per-dispatch uniforms
 * only at a submit, so GPU memory read without this depends on where in a batch the last op fell.
 */
function flush(backend: WebGpuBackendLike): void {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

/** GPU bytes held by live tensors and allocated in all (live plus pooled), or null off webgpu. */
export function gpuMemory(): { bytesInUse: number; bytesAllocated: number } | null {
  const backend = activeWebGpuBackend();
  if (!backend) return null;
  flush(backend);
  const m = backend.memory();
  return { bytesInUse: m.numBytesInGPU, bytesAllocated: m.numBytesAllocatedInGPU };
}

/**
 * Destroys the GPU buffers tfjs keeps pooled for reuse (the pool only grows while tensors come and go), so that
 * GPU memory after a round is what live tensors hold. No-op on other backends.
 */
export function releasePooledGpuBuffers(): void {
  const backend = activeWebGpuBackend();
  if (!backend) return;
  flush(backend);
  const manager = backend.bufferManager;
  for (const list of manager.freeBuffers.values()) {
    for (const buffer of list) {
      manager.numBytesAllocated -= buffer.size;
      buffer.destroy();
    }
    // Keep the (now empty) lists: tfjs's releaseBuffer returns early when the map itself is empty.
    list.length = 0;
  }
  manager.numFreeBuffers = 0;
}
