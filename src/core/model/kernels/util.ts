// Helpers for kernels built from other kernels of the same backend: they call the registered kernel functions
// directly (no engine, no tape), and every intermediate TensorInfo is released with `backend.disposeData`.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm that JS kernels use (heap views and output allocation). */
export interface WasmBackendLike extends KernelBackend {
  makeOutput(shape: number[], dtype: 'float32' | 'int32' | 'bool' | string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

export class KernelRunner {
  private readonly owned: TensorInfo[] = [];

  constructor(
    readonly backend: KernelBackend,
    readonly backendName: string,
  ) {}

  /** Runs a registered kernel of this backend; the result is released by `dispose()` unless `keep()`-ed. */
  run(kernelName: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
    const config = tf.getKernel(kernelName, this.backendName);
    if (!config) throw new Error(`${this.backendName} backend has no ${kernelName} kernel`);
    const out = config.kernelFunc({
      inputs: inputs as unknown as tf.NamedTensorInfoMap,
      backend: this.backend,
      attrs,
    }) as TensorInfo | TensorInfo[];
    if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs`);
    this.owned.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Adds a TensorInfo made elsewhere (e.g. backend.makeOutput) to the list released by dispose(). */
  adopt(info: TensorInfo): TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Removes `info` from the list released by dispose() (the caller returns it). */
  keep(info: TensorInfo): TensorInfo {
    const i = this.owned.lastIndexOf(info);
    if (i >= 0) this.owned.splice(i, 1);
    return info;
  }

  dispose(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/** Allocation of float32 outputs and views of tensor data, for the wasm and the cpu backend. */
export interface Storage {
  alloc(shape: number[]): TensorInfo;
  view(info: TensorInfo): Float32Array;
}

type CpuBackendLike = KernelBackend & { makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo };

export function storage(backend: KernelBackend): Storage {
  const wasm = backend as Partial<WasmBackendLike>;
  const cpu = backend as CpuBackendLike;
  if (typeof wasm.makeOutput === 'function' && typeof wasm.typedArrayFromHeap === 'function') {
    return { alloc: (shape) => wasm.makeOutput!(shape, 'float32'), view: (info) => wasm.typedArrayFromHeap!(info) };
  }
  return {
    alloc: (shape) => cpu.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((p, s) => p * s, 1))),
    view: (info) => backend.readSync(info.dataId) as Float32Array,
  };
}
