// ResizeBilinearGrad that is the exact adjoint of the forward ResizeBilinear of tfjs's cpu and wasm backends.
// cpu 4.22 returns its result with shape [batch, W, H, C] (H and W swapped), so any non-square upsampling fails
// in backprop; both the cpu and the wasm stock kernels also ignore halfPixelCenters. The cpu kernel is replaced;
// on wasm the stock kernel is kept for halfPixelCenters=false (it is right there) and this one does the rest.
import { ResizeBilinearGrad } from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

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

export function makeWasmResizeBilinearGradConfig(stock: KernelFunc | undefined): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, backend, attrs } = args;
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const { alignCorners = false, halfPixelCenters = false } = attrs as GradAttrs;
    if (!halfPixelCenters && stock) return stock(args);
    const wasm = backend as WasmLike;
    const out = wasm.makeOutput(images.shape.slice(), 'float32');
    // Views taken after the allocation (a heap growth detaches older ones); nothing allocates on the heap below.
    resizeBilinearGradInto({ dy: wasm.typedArrayFromHeap(dy), dyShape: dy.shape, imagesShape: images.shape, alignCorners,
      halfPixelCenters }, wasm.typedArrayFromHeap(out));
    return out;
  }) as KernelFunc;
  return { kernelName: ResizeBilinearGrad, backendName: 'wasm', kernelFunc };
}
