// Picks the TensorFlow.js backend for training and inference at run time.
// Order without a preference: tfjs-node-gpu (optional native package, libtensorflow with CUDA), WebGPU on a
// hardware adapter (optional package `webgpu`, see ./webgpu.ts), tfjs-node (libtensorflow on the CPU), wasm (SIMD,
// one thread under Node), then the pure-JS cpu backend. `--backend` names one and gets exactly that one or a
// UserError; `--backend webgpu` also accepts a software adapter. Each worker_thread calls initBackend itself.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// The union package registers every op's gradient on this same (CommonJS) tfjs-core instance; see ./tf.ts.
import './tf';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { BACKEND_NAMES, UserError, type BackendName } from '../../shared/api';
import { registerProjectKernels } from './kernels';
import { describeAdapter, type GpuAdapter } from './gpuAdapter';
import { startWebGpu, vulkanDriverListed } from './webgpu';

export { BACKEND_NAMES, type BackendName };

export interface BackendInfo {
  name: BackendName;
  /** The name tfjs knows the backend by (`tf.getBackend()`): 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  tfjsBackend: string;
  /** One line for logs and round records, e.g. "@tensorflow/tfjs-backend-wasm 4.22.0, SIMD, 1 thread". */
  detail: string;
  simd?: boolean;
  threads?: number;
  /** webgpu: the GPU adapter it runs on. */
  adapter?: GpuAdapter;
}

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

/** Short text for the UI and the log: "wasm (SIMD, 1 thread)", "webgpu · SwiftShader (software)". */
export function describeBackend(info: BackendInfo): string {
  switch (info.name) {
    case 'tensorflow-gpu':
      return 'tensorflow-gpu (libtensorflow, CUDA)';
    case 'webgpu':
      return `webgpu · ${info.adapter ? describeAdapter(info.adapter) : 'unknown adapter'}`;
    case 'tensorflow':
      return 'tensorflow (libtensorflow, CPU)';
    case 'wasm': {
      const threads = info.threads ?? 1;
      return `wasm (${info.simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'})`;
    }
    case 'cpu':
      return 'cpu (JavaScript)';
  }
}

// `require` exists in the CommonJS builds (electron-vite main, tsx, Vitest); an ESM build would need createRequire.
function nodeRequire(): NodeRequire {
  if (typeof require === 'function') return require;
  return createRequire(import.meta.url);
}

function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const first = text.split('\n')[0]?.trim() ?? '';
  return first.length > 200 ? `${first.slice(0, 197)}...` : first || 'unknown error';
}

/** The folder that holds tfjs-backend-wasm's .wasm binaries (the package's dist/). */
export function wasmBinaryDir(): string {
  const req = nodeRequire();
  const candidates: string[] = [];
  try {
    candidates.push(dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')));
  } catch {
    // package.json may be hidden by an exports map in a later version; fall back to the main entry.
  }
  try {
    const main = dirname(req.resolve('@tensorflow/tfjs-backend-wasm'));
    candidates.push(main, join(main, '..'));
  } catch {
    // handled below
  }
  for (const base of candidates) {
    for (const dir of [join(base, 'dist'), base, join(base, 'wasm-out')]) {
      if (existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm'))) return dir;
    }
  }
  throw new Error('tfjs-backend-wasm-simd.wasm was not found next to @tensorflow/tfjs-backend-wasm');
}

let wasmPathsSet = false;
let current: BackendInfo | null = null;

async function activate(tfjsName: string): Promise<void> {
  const ok = await tf.setBackend(tfjsName);
  if (!ok || tf.getBackend() !== tfjsName) throw new Error(`tf.setBackend('${tfjsName}') failed`);
  await tf.ready();
}

async function tryNative(name: 'tensorflow-gpu' | 'tensorflow'): Promise<BackendInfo> {
  const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  const req = nodeRequire();
  // Loading the package registers the 'tensorflow' backend (and loads libtensorflow); it throws when absent.
  const mod = req(pkg) as { version?: { [k: string]: string } };
  const version = mod.version?.['tfjs-node'] ?? mod.version?.['tfjs-core'] ?? '';
  if (!tf.findBackendFactory('tensorflow')) {
    throw new Error(`${pkg} loaded but registered its backend on another copy of @tensorflow/tfjs-core`);
  }
  await activate('tensorflow');
  return {
    name,
    tfjsBackend: 'tensorflow',
    detail: `${pkg}${version ? ` ${version}` : ''}, libtensorflow on ${name === 'tensorflow-gpu' ? 'CUDA' : 'CPU'}`,
  };
}

async function tryWasm(): Promise<BackendInfo> {
  if (!wasmPathsSet) {
    const dir = wasmBinaryDir();
    setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
    wasmPathsSet = true;
  }
  registerProjectKernels();
  // Emscripten's loader adds process listeners that rethrow every uncaught exception and unhandled rejection from
  // its own frame (crashing a server that has its own handlers, with a useless trace): take them off again.
  const events = ['uncaughtException', 'unhandledRejection'];
  const emitter = process as unknown as { listeners(event: string): unknown[] };
  const listeners = (e: string) => emitter.listeners(e);
  const before = new Map(events.map((e) => [e, new Set<unknown>(listeners(e))]));
  try {
    await activate('wasm');
  } finally {
    for (const e of events) {
      for (const listener of listeners(e)) {
        if (!before.get(e)?.has(listener)) process.removeListener(e, listener as (...args: unknown[]) => void);
      }
    }
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  let threads = 1;
  try {
    threads = Math.max(1, getThreadsCount());
  } catch {
    threads = 1;
  }
  return {
    name: 'wasm',
    tfjsBackend: 'wasm',
    detail: `@tensorflow/tfjs-backend-wasm ${version_wasm}, ${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`,
    simd,
    threads,
  };
}

/** `explicit`: asked for by name, so a software adapter is accepted. */
async function tryWebGpu(explicit: boolean): Promise<BackendInfo> {
  if (!explicit && !vulkanDriverListed()) throw new Error('no Vulkan driver is installed');
  const adapter = await startWebGpu({ allowSoftware: explicit });
  const version = (nodeRequire()('@tensorflow/tfjs-backend-webgpu/package.json') as { version: string }).version;
  return {
    name: 'webgpu',
    tfjsBackend: 'webgpu',
    detail: `@tensorflow/tfjs-backend-webgpu ${version} on Dawn (npm webgpu), adapter ${describeAdapter(adapter)}${adapter.description ? `: ${adapter.description}` : ''}`,
    adapter,
  };
}

async function tryCpu(): Promise<BackendInfo> {
  registerProjectKernels();
  await activate('cpu');
  return { name: 'cpu', tfjsBackend: 'cpu', detail: `@tensorflow/tfjs-backend-cpu ${tf.version_core}, JavaScript` };
}

function attempt(name: BackendName, explicit: boolean): Promise<BackendInfo> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return tryNative(name);
    case 'webgpu':
      return tryWebGpu(explicit);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

function unavailable(name: BackendName, why: string): UserError {
  const advice: Record<BackendName, string> = {
    'tensorflow-gpu':
      'install @tensorflow/tfjs-node-gpu (it needs libtensorflow and CUDA 11.2 with cuDNN 8.1) or choose --backend wasm',
    webgpu:
      'install a Vulkan, Metal or D3D12 GPU driver (on Linux libvulkan1 and the vendor\'s driver) and the optional package webgpu, or for the SwiftShader software adapter set VK_ICD_FILENAMES to Chromium\'s vk_swiftshader_icd.json, or choose --backend wasm',
    tensorflow: 'install @tensorflow/tfjs-node (it downloads libtensorflow at install time) or choose --backend wasm',
    wasm: 'reinstall @tensorflow/tfjs-backend-wasm or choose --backend cpu',
    cpu: 'reinstall @tensorflow/tfjs-backend-cpu',
  };
  return new UserError(`The ${name} backend is unavailable (${why}): ${advice[name]}.`);
}

/**
 * Selects and starts the backend. Without `preferred`, the first of tensorflow-gpu, webgpu (hardware adapter
 * only), tensorflow, wasm, cpu that loads; with it, exactly that one or a UserError. Registers the project's
 * kernels. Safe to call again.
 */
export async function initBackend(preferred?: BackendName, log?: (line: string) => void): Promise<BackendInfo> {
  if (preferred !== undefined && !isBackendName(preferred)) {
    throw new UserError(`Unknown backend "${String(preferred)}": choose one of ${BACKEND_NAMES.join(', ')}.`);
  }
  if (current && tf.getBackend() === current.tfjsBackend && (preferred === undefined || preferred === current.name)) {
    return current;
  }
  const order = preferred ? [preferred] : BACKEND_NAMES;
  for (const name of order) {
    try {
      const info = await attempt(name, preferred !== undefined);
      current = info;
      log?.(`backend: ${describeBackend(info)} [${info.detail}]`);
      return info;
    } catch (err) {
      if (preferred) throw unavailable(name, reason(err));
      log?.(`backend: ${name} unavailable (${reason(err)})`);
    }
  }
  throw new UserError('No TensorFlow.js backend could be started: reinstall the application dependencies.');
}

/** The backend chosen by the last successful initBackend in this thread, or null. */
export function currentBackend(): BackendInfo | null {
  return current && tf.getBackend() === current.tfjsBackend ? current : null;
}
