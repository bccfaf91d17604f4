// ResizeBilinearGrad that is the exact adjoint of the forward ResizeBilinear of tfjs's cpu and wasm backends.
// cpu 4.22 returns its result with shape [batch, W, H, C] (H and W swapped), so any non-square upsampling fails
// in backprop; both the cpu and the wasm stock kernels also ignore halfPixelCenters. The cpu kernel is replaced;
// on wasm the stock kernel is right for halfPixelCenters=false, and a wasm SIMD kernel computes its bits faster
// (simd/kernels.wat); the stock kernel runs where the SIMD kernels cannot, and this one does the rest.
import { ResizeBilinearGrad } from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { simdKernels } from './simd';

export interface ResizeBilinearGradArgs {
  dy: ArrayLike<number>;
  dyShape: readonly number[];
  imagesShape: readonly number[];
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** Interpolation taps of one output coordinate, computed exactly as the forward kernels do. */
function taps(size: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean) {
  const effIn = alignCorners && outSize > 1 ? size - 1 : size;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = halfPixelCenters ? ratio * (i + 0.5) - 0.5 : ratio * i;
    const f = Math.max(0, Math.floor(src));
    lo[i] = f;
    hi[i] = Math.min(size - 1, Math.ceil(src));
    frac[i] = src - f;
  }
  return { lo, hi, frac };
}

/** dL/dimages for NHWC images, given dL/dresized. Writes into `out` (zero-filled here). */
export function resizeBilinearGradInto(args: ResizeBilinearGradArgs, out: Float32Array): Float32Array {
  const { dy, dyShape, imagesShape, alignCorners, halfPixelCenters } = args;
  const [batch, inH, inW, depth] = imagesShape as [number, number, number, number];
  const [, outH, outW] = dyShape as [number, number, number, number];
  out.fill(0);
  const rows = taps(inH, outH, alignCorners, halfPixelCenters);
  const cols = taps(inW, outW, alignCorners, halfPixelCenters);
  const rowStride = inW * depth;
  let offset = 0;
  for (let b = 0; b < batch; b++) {
    const bOff = b * inH * rowStride;
    for (let r = 0; r < outH; r++) {
      const top = bOff + rows.lo[r]! * rowStride;
      const bottom = bOff + rows.hi[r]! * rowStride;
      const rf = rows.frac[r]!;
      for (let c = 0; c < outW; c++) {
        const cf = cols.frac[c]!;
        const left = cols.lo[c]! * depth;
        const right = cols.hi[c]! * depth;
        const tl = (1 - rf) * (1 - cf);
        const tr = (1 - rf) * cf;
        const bl = rf * (1 - cf);
        const br = rf * cf;
        const i00 = top + left;
        const i01 = top + right;
        const i10 = bottom + left;
        const i11 = bottom + right;
        for (let d = 0; d < depth; d++) {
          const g = dy[offset++]!;
          out[i00 + d] = out[i00 + d]! + g * tl;
          out[i01 + d] = out[i01 + d]! + g * tr;
          out[i10 + d] = out[i10 + d]! + g * bl;
          out[i11 + d] = out[i11 + d]! + g * br;
        }
      }
    }
  }
  return out;
}

interface GradAttrs {
  alignCorners?: boolean;
  halfPixelCenters?: boolean;
}

interface CpuLike extends KernelBackend {
  data: { get(id: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

const cpuKernelFunc = (({ inputs, backend, attrs }) => {
  const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
  const { alignCorners = false, halfPixelCenters = false } = attrs as GradAttrs;
  const cpu = backend as CpuLike;
  const out = new Float32Array(images.shape.reduce((a, b) => a * b, 1));
  resizeBilinearGradInto({
    dy: cpu.data.get(dy.dataId).values, dyShape: dy.shape, imagesShape: images.shape, alignCorners,
    halfPixelCenters,
  }, out);
  return cpu.makeTensorInfo(images.shape.slice(), 'float32', out);
}) as KernelFunc;

export const cpuResizeBilinearGradConfig: KernelConfig = {
  kernelName: ResizeBilinearGrad,
  backendName: 'cpu',
  kernelFunc: cpuKernelFunc,
};

interface WasmLike extends KernelBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/**
 * The taps of tfjs-backend-wasm's own ResizeBilinearGrad (halfPixelCenters false), in its float32 arithmetic: the
 * scale (in - a) / (out - a) and each source coordinate i * scale rounded to float32, truncated for the low index.
 */
function stockTaps(size: number, outSize: number, alignCorners: boolean) {
  const a = alignCorners && outSize > 1 ? 1 : 0;
  const scale = Math.fround((size - a) / (outSize - a));
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = Math.fround(i * scale);
    lo[i] = Math.trunc(src);
    hi[i] = Math.min(Math.ceil(src), size - 1);
    frac[i] = Math.fround(src - Math.floor(src));
  }
  return { lo, hi, frac };
}

/**
 * The gradient as a wasm SIMD kernel: resizeBilinearGradInto's arithmetic for halfPixelCenters, tfjs-backend-wasm's
 * own kernel's otherwise (the same bits as each). false where the kernels cannot run.
 */
function simdResizeBilinearGrad(wasm: WasmLike, dy: TensorInfo, out: TensorInfo, imagesShape: number[], alignCorners: boolean, halfPixelCenters: boolean): boolean {
  const simd = simdKernels(wasm);
  if (!simd) return false;
  const [batch, inH, inW, depth] = imagesShape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const rows = halfPixelCenters ? taps(inH, outH, alignCorners, true) : stockTaps(inH, outH, alignCorners);
  const cols = halfPixelCenters ? taps(inW, outW, alignCorners, true) : stockTaps(inW, outW, alignCorners);
  // Fractions (f64) first, so that they are 8-byte aligned, then the indices (i32).
  const scratch = wasm.makeOutput([4 * (outH + outW)], 'float32');
  try {
    const view = wasm.typedArrayFromHeap(scratch);
    if (view.byteOffset % 8 !== 0) return false;
    new Float64Array(view.buffer, view.byteOffset, outH + outW).set([...rows.frac, ...cols.frac]);
    new Int32Array(view.buffer, view.byteOffset + 8 * (outH + outW), 2 * (outH + outW)).set([...rows.lo, ...rows.hi, ...cols.lo, ...cols.hi]);
    wasm.typedArrayFromHeap(out).fill(0);
    const kernel = halfPixelCenters ? simd.resizeBilinearGrad : simd.resizeBilinearGradStock;
    kernel(simd.offset(dy), simd.offset(out), simd.offset(scratch), batch, inH, inW, outH, outW, depth);
    return true;
  } finally {
    wasm.disposeData(scratch.dataId);
  }
}

export function makeWasmResizeBilinearGradConfig(stock: KernelFunc | undefined): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, backend, attrs } = args;
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const { alignCorners = false, halfPixelCenters = false } = attrs as GradAttrs;
    const wasm = backend as WasmLike;
    const out = wasm.makeOutput(images.shape.slice(), 'float32');
    if (simdResizeBilinearGrad(wasm, dy, out, images.shape, alignCorners, halfPixelCenters)) return out;
    if (!halfPixelCenters && stock) {
      wasm.disposeData(out.dataId);
      return stock(args);
    }
    // Views taken after the allocation (a heap growth detaches older ones); nothing allocates on the heap below.
    resizeBilinearGradInto({ dy: wasm.typedArrayFromHeap(dy), dyShape: dy.shape, imagesShape: images.shape, alignCorners,
      halfPixelCenters }, wasm.typedArrayFromHeap(out));
    return out;
  }) as KernelFunc;
  return { kernelName: ResizeBilinearGrad, backendName: 'wasm', kernelFunc };
}
