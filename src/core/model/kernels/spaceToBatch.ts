// Faster wasm SpaceToBatchND and BatchToSpaceND for NHWC tensors with a 2-D block (the dilated convolutions of
// network.ts, forward and backward). The stock kernels pad, reshape to rank 6 and transpose there, and a rank-6
// transpose costs ~150 ns per element on wasm: about 5 ms for a [2,16,32,32] map, tens of ms per training step.
// These copy channel rows (C contiguous floats) straight to their place. Other ranks and blocks use the stock kernel.
import { BatchToSpaceND, SpaceToBatchND } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './util';

type Heap = Float32Array | Int32Array | Uint8Array;

/**
 * out[(i·bw + j)·B + b, y, x, :] = padded[b, y·bh + i, x·bw + j, :], with `padded` the input [B, H, W, C] padded by
 * [[top, bottom], [left, right]] (zeros) and out [bh·bw·B, (top + H + bottom) / bh, (left + W + right) / bw, C].
 */
export function spaceToBatchInto(x: Heap, shape: readonly number[], block: readonly number[], paddings: readonly number[][], out: Heap): void {
  const [batch, h, w, c] = shape as [number, number, number, number];
  const [bh, bw] = block as [number, number];
  const [[top], [left]] = paddings as [[number, number], [number, number]];
  const oh = (top + h + paddings[0]![1]!) / bh;
  const ow = (left + w + paddings[1]![1]!) / bw;
  let dst = 0;
  for (let i = 0; i < bh; i++) {
    for (let j = 0; j < bw; j++) {
      for (let b = 0; b < batch; b++) {
        for (let y = 0; y < oh; y++) {
          const sy = y * bh + i - top;
          if (sy < 0 || sy >= h) {
            out.fill(0, dst, dst + ow * c);
            dst += ow * c;
            continue;
          }
          const rowBase = (b * h + sy) * w;
          for (let xo = 0; xo < ow; xo++, dst += c) {
            const sx = xo * bw + j - left;
            if (sx < 0 || sx >= w) out.fill(0, dst, dst + c);
            else out.set(x.subarray((rowBase + sx) * c, (rowBase + sx + 1) * c), dst);
          }
        }
      }
    }
  }
}

/**
 * The inverse: out[b, Y, X, :] = x[(i·bw + j)·B + b, y, x', :] where Y + cropTop = y·bh + i and
 * X + cropLeft = x'·bw + j, for x [bh·bw·B, h, w, C] and out [B, h·bh − crops, w·bw − crops, C].
 */
export function batchToSpaceInto(x: Heap, shape: readonly number[], block: readonly number[], crops: readonly number[][], out: Heap): void {
  const [inBatch, h, w, c] = shape as [number, number, number, number];
  const [bh, bw] = block as [number, number];
  const [[top, bottom], [left, right]] = crops as [[number, number], [number, number]];
  const batch = inBatch / (bh * bw);
  const oh = h * bh - top - bottom;
  const ow = w * bw - left - right;
  let dst = 0;
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < oh; y++) {
      const py = y + top;
      const i = py % bh;
      const sy = (py - i) / bh;
      for (let xo = 0; xo < ow; xo++, dst += c) {
        const px = xo + left;
        const j = px % bw;
        const sx = (px - j) / bw;
        const src = ((((i * bw + j) * batch + b) * h + sy) * w + sx) * c;
        out.set(x.subarray(src, src + c), dst);
      }
    }
  }
}

type Wasm = WasmBackendLike & { typedArrayFromHeap(info: TensorInfo): Heap };

/** Which kernel, and the name of its edge attribute: SpaceToBatchND pads, BatchToSpaceND crops. */
type Layout = { kernelName: typeof SpaceToBatchND | typeof BatchToSpaceND; edges: 'paddings' | 'crops' };

function makeConfig(
  layout: Layout,
  outShape: (shape: readonly number[], block: readonly number[], edges: readonly number[][]) => number[],
  into: (x: Heap, shape: readonly number[], block: readonly number[], edges: readonly number[][], out: Heap) => void,
) {
  return (stock: KernelFunc | undefined): KernelConfig => {
    const kernelFunc = ((args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const attrs = args.attrs as unknown as { blockShape: number[] } & Record<Layout['edges'], number[][]>;
      const block = attrs.blockShape;
      const edges = attrs[layout.edges];
      if (x.shape.length !== 4 || block.length !== 2 || !['float32', 'int32', 'bool'].includes(x.dtype)) {
        if (!stock) throw new Error(`wasm ${layout.kernelName}: unsupported input ${x.dtype} [${x.shape}]`);
        return stock(args);
      }
      const be = args.backend as Wasm;
      const shape = outShape(x.shape, block, edges);
      const out = be.makeOutput(shape, x.dtype);
      if (shape.every((s) => s > 0)) into(be.typedArrayFromHeap(x), x.shape, block, edges, be.typedArrayFromHeap(out));
      return out;
    }) as KernelFunc;
    return { kernelName: layout.kernelName, backendName: 'wasm', kernelFunc };
  };
}

export const makeWasmSpaceToBatchNDConfig = makeConfig(
  { kernelName: SpaceToBatchND, edges: 'paddings' },
  (s, b, pad) => [s[0]! * b[0]! * b[1]!, (pad[0]![0]! + s[1]! + pad[0]![1]!) / b[0]!, (pad[1]![0]! + s[2]! + pad[1]![1]!) / b[1]!, s[3]!],
  spaceToBatchInto,
);

export const makeWasmBatchToSpaceNDConfig = makeConfig(
  { kernelName: BatchToSpaceND, edges: 'crops' },
  (s, b, crop) => [s[0]! / (b[0]! * b[1]!), s[1]! * b[0]! - crop[0]![0]! - crop[0]![1]!, s[2]! * b[1]! - crop[1]![0]! - crop[1]![1]!, s[3]!],
  batchToSpaceInto,
);
