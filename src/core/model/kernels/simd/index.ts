// The project's wasm SIMD kernels (kernels.wat), instantiated on a tfjs-backend-wasm backend's own memory: they read
// and write its tensors in place, by byte offset. null where they cannot run (another backend, a runtime without
// wasm SIMD, a tfjs build whose internals differ); the callers then run their JavaScript loops, which compute the
// same bits.
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { KERNELS_WASM_BASE64 } from './kernelsWasm';

// WebAssembly's JavaScript API as far as used here (the node code's lib, ES2023 without DOM, declares none).
interface WasmModule {
  readonly compiled: unique symbol;
}
declare const WebAssembly: {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
};

export interface SimdKernels {
  /** Byte offset of a tensor's data in the backend's memory. */
  offset(info: TensorInfo): number;
  /** out[i, c] = (probs[i, c] · valid[i] − [c = classes[i]]) · dy[i] in float32 (offsets in bytes). */
  crossEntropyGrad(probs: number, classes: number, valid: number, dy: number, out: number, pixels: number, count: number): void;
  /** Batch norm's loops (kernels.wat says what each computes); c a multiple of 4, scratch arrays 8-byte aligned. */
  bnSums(x: number, pixels: number, c: number, out: number): void;
  bnNormalize(x: number, y: number, ab: number, pixels: number, c: number, lo: number, hi: number): void;
  bnGradSums(dy: number, x: number, dx: number, ab: number, mean: number, pixels: number, c: number, lo: number, hi: number, gated: number, out: number): void;
  bnGradApply(x: number, dx: number, st: number, pixels: number, c: number): void;
  /** ResizeBilinearGrad into a zeroed out, with the interpolation taps laid out as kernels.wat says. */
  resizeBilinearGrad(dy: number, out: number, taps: number, batch: number, inH: number, inW: number, outH: number, outW: number, depth: number): void;
  /** The same with tfjs-backend-wasm's own kernel's arithmetic (halfPixelCenters false). */
  resizeBilinearGradStock(dy: number, out: number, taps: number, batch: number, inH: number, inW: number, outH: number, outW: number, depth: number): void;
  /** dst[i] = src[i * stride] for i < count, float32 (byte addresses). */
  copyStrided(src: number, dst: number, count: number, stride: number): void;
}

/** Off for comparisons in tests and benches. */
export const simdOptions = { enabled: true };

interface WasmBackendInternals {
  wasm?: { asm?: { memory?: unknown } };
  dataIdMap?: { get(dataId: object): { memoryOffset: number } | undefined };
}

const instances = new WeakMap<object, SimdKernels | null>();
let compiled: WasmModule | null | undefined;

export function simdKernels(backend: KernelBackend): SimdKernels | null {
  if (!simdOptions.enabled) return null;
  let kernels = instances.get(backend);
  if (kernels === undefined) {
    kernels = instantiate(backend as unknown as WasmBackendInternals);
    instances.set(backend, kernels);
  }
  return kernels;
}

function instantiate(backend: WasmBackendInternals): SimdKernels | null {
  const memory = backend.wasm?.asm?.memory;
  const data = backend.dataIdMap;
  if (!(memory instanceof WebAssembly.Memory) || !data) return null;
  if (compiled === undefined) {
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  if (!compiled) return null;
  const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports;
  return {
    offset: (info) => {
      const entry = data.get(info.dataId);
      if (!entry) throw new Error('SIMD kernel: a tensor of another backend');
      return entry.memoryOffset;
    },
    crossEntropyGrad: exports['crossEntropyGrad'] as SimdKernels['crossEntropyGrad'],
    bnSums: exports['bnSums'] as SimdKernels['bnSums'],
    bnNormalize: exports['bnNormalize'] as SimdKernels['bnNormalize'],
    bnGradSums: exports['bnGradSums'] as SimdKernels['bnGradSums'],
    bnGradApply: exports['bnGradApply'] as SimdKernels['bnGradApply'],
    resizeBilinearGrad: exports['resizeBilinearGrad'] as SimdKernels['resizeBilinearGrad'],
    resizeBilinearGradStock: exports['resizeBilinearGradStock'] as SimdKernels['resizeBilinearGradStock'],
    copyStrided: exports['copyStrided'] as SimdKernels['copyStrided'],
  };
}
