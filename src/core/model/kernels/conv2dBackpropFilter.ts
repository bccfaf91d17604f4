// wasm Conv2DBackpropFilter (missing in tfjs-backend-wasm 4.22, tensorflow/tfjs#8474).
//   dW[kh,kw,ci,co] = sum over n,y,x of xpad[n, y*sh + kh, x*sw + kw, ci] * dy[n, y, x, co]
// im2col, transposed: build P^T [KH*KW*Cin, M] (M = N*OH*OW output pixels) on the wasm heap from x transposed to
// [Cin, N, H, W] (rows are then plain copies for stride 1), and take one matmul P^T · dy [M, Cout] with the
// backend's BatchMatMul (XNNPACK, no transpose flags). Done in chunks of output rows (P^T ~1 MiB each, which
// stays in cache); the chunk products are summed. Stride 1 builds P^T from a zero-padded copy of x instead, one
// copy per row of P^T (strideOneFilterGrad); it sums the same products in the same order, to the bit.
import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelRunner, type WasmBackendLike } from './util';
import { simdKernels } from './simd';

/**
 * Chunking of P^T: about maxPatchFloats floats (1 MiB; smaller chunks stay in cache and measured faster than one
 * 38 MB P^T at 256x128x16), but at least minChunkColumns output pixels per matmul. Exposed for tests.
 */
export const conv2dBackpropFilterOptions = {
  maxPatchFloats: 256 * 1024,
  minChunkColumns: 2048,
  /**
   * Stride 1: P^T from the padded grid ('grid') or output row by output row ('rows', as for stride 2: one short
   * copy per row of P^T and output row, 1.1-2.4x slower at the 1/8-resolution maps of `tiny`). For tests and benches.
   */
  strideOne: 'grid' as 'grid' | 'rows',
};

function outputRowsPerChunk(patchRows: number, ow: number, dyRows: number): number {
  const { maxPatchFloats, minChunkColumns } = conv2dBackpropFilterOptions;
  const columns = Math.max(minChunkColumns, Math.floor(maxPatchFloats / patchRows));
  return Math.max(1, Math.min(dyRows, Math.floor(columns / ow)));
}

export function conv2dBackpropFilterWasm(
  r: KernelRunner,
  xIn: TensorInfo,
  dyIn: TensorInfo,
  attrs: Conv2DBackpropFilterAttrs,
): TensorInfo {
  const backend = r.backend as WasmBackendLike;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const channelsFirst = backend_util.convertConv2DDataFormat(dataFormat) === 'channelsFirst';
  const x = channelsFirst ? r.transpose(xIn, [0, 2, 3, 1]) : xIn;
  const dy = channelsFirst ? r.transpose(dyIn, [0, 2, 3, 1]) : dyIn;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
    strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outHeight: oh, outWidth: ow,
    outChannels: cout, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top: pt, left: pl } = info.padInfo;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('Conv2DBackpropFilter: dilations other than 1 are not supported');
  }
  const rows = fh * fw * cin;
  const out = backend.makeOutput([fh, fw, cin, cout], 'float32');
  if (n * oh * ow === 0 || rows * cout === 0) {
    backend.typedArrayFromHeap(out).fill(0);
    return out;
  }
  // Columns of a kernel column kw that read inside the image: x in [x0[kw], x1[kw]).
  const x0 = new Int32Array(fw);
  const x1 = new Int32Array(fw);
  for (let kw = 0; kw < fw; kw++) {
    x0[kw] = Math.min(ow, Math.max(0, Math.ceil((pl - kw) / sw)));
    x1[kw] = Math.max(x0[kw]!, Math.min(ow, Math.floor((w - 1 - kw + pl) / sw) + 1));
  }

  const oneByOne = fh === 1 && fw === 1 && sh === 1 && sw === 1 && oh === h && ow === w && pt === 0 && pl === 0;
  if (sh === 1 && sw === 1 && conv2dBackpropFilterOptions.strideOne === 'grid' && !oneByOne) {
    strideOneFilterGrad(r, x, dy, out, { n, h, w, cin, oh, ow, cout, fh, fw, pt, pl });
    return out;
  }
  const xt = r.transpose(x, [3, 0, 1, 2]); // [Cin, N, H, W]
  if (oneByOne) {
    // 1x1, stride 1: P^T is x^T itself.
    const prod = r.run('BatchMatMul', { a: r.reshape(xt, [1, cin, n * h * w]), b: r.reshape(dy, [1, n * oh * ow, cout]) },
      { transposeA: false, transposeB: false });
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(prod));
    return out;
  }
  const dyRows = n * oh; // chunk over (n, y) output rows
  const rowsPerChunk = outputRowsPerChunk(rows, ow, dyRows);
  const simd = sw > 1 ? simdKernels(backend) : null;
  const chunks = Math.ceil(dyRows / rowsPerChunk);
  const acc = chunks > 1 ? new Float32Array(rows * cout) : null;
  let result: TensorInfo | null = null;

  for (let c = 0; c < chunks; c++) {
    const rowBegin = c * rowsPerChunk;
    const rowEnd = Math.min(dyRows, rowBegin + rowsPerChunk);
    const mc = (rowEnd - rowBegin) * ow;
    const pT = backend.makeOutput([1, rows, mc], 'float32');
    let dyChunk: TensorInfo;
    if (chunks === 1) {
      dyChunk = r.reshape(dy, [1, mc, cout]);
    } else {
      dyChunk = backend.makeOutput([1, mc, cout], 'float32');
    }
    // Views are taken after every allocation (a heap growth detaches older views).
    const xv = backend.typedArrayFromHeap(xt);
    const pv = backend.typedArrayFromHeap(pT);
    const xAt = simd?.offset(xt) ?? 0;
    const pAt = simd?.offset(pT) ?? 0;
    if (chunks > 1) {
      const dyv = backend.typedArrayFromHeap(dy);
      backend.typedArrayFromHeap(dyChunk).set(dyv.subarray(rowBegin * ow * cout, rowEnd * ow * cout));
    }
    let dst = 0;
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        const xa = x0[kw]!;
        const xb = x1[kw]!;
        const srcX0 = xa * sw + kw - pl;
        for (let ci = 0; ci < cin; ci++) {
          const chanBase = ci * n * h * w;
          for (let row = rowBegin; row < rowEnd; row++) {
            const b = Math.floor(row / oh);
            const y = row - b * oh;
            const srcY = y * sh + kh - pt;
            if (srcY < 0 || srcY >= h || xa >= xb) {
              pv.fill(0, dst, dst + ow);
            } else {
              if (xa > 0) pv.fill(0, dst, dst + xa);
              const src = chanBase + (b * h + srcY) * w + srcX0;
              if (sw === 1) {
                pv.set(xv.subarray(src, src + (xb - xa)), dst + xa);
              } else if (simd) {
                simd.copyStrided(xAt + src * 4, pAt + (dst + xa) * 4, xb - xa, sw);
              } else {
                for (let i = 0, s = src, d = dst + xa; i < xb - xa; i++, s += sw, d++) pv[d] = xv[s]!;
              }
              if (xb < ow) pv.fill(0, dst + xb, dst + ow);
            }
            dst += ow;
          }
        }
      }
    }
    const prod = r.run('BatchMatMul', { a: pT, b: dyChunk }, { transposeA: false, transposeB: false });
    backend.disposeData(pT.dataId);
    if (chunks > 1) backend.disposeData(dyChunk.dataId);
    if (acc) {
      const pr = backend.typedArrayFromHeap(prod);
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + pr[i]!;
    } else {
      result = prod;
    }
  }
  const ov = backend.typedArrayFromHeap(out);
  ov.set(acc ?? backend.typedArrayFromHeap(result!));
  return out;
}

/**
 * Stride 1: x is zero-padded to the grid its taps read, [Cin, N, Hp, Wp] with Hp = OH + FH - 1, and dy is laid
 * out on the same grid (zero where no output is). Output pixel m of the grid then reads tap (kh, kw) at
 * m + kh*Wp + kw for every pixel at once, so each row (kh, kw, ci) of P^T is one contiguous copy of the padded
 * x, instead of one short copy per output row. The grid's padding columns cost a little more matmul.
 */
function strideOneFilterGrad(
  r: KernelRunner,
  x: TensorInfo,
  dy: TensorInfo,
  out: TensorInfo,
  d: { n: number; h: number; w: number; cin: number; oh: number; ow: number; cout: number; fh: number; fw: number; pt: number; pl: number },
): void {
  const { n, h, w, cin, oh, ow, cout, fh, fw, pt, pl } = d;
  const wp = ow + fw - 1;
  const plane = (oh + fh - 1) * wp;
  const grid = n * plane;
  const length = (n - 1) * plane + (oh - 1) * wp + ow; // past the last output pixel on the grid
  const rows = fh * fw * cin;
  const backend = r.backend as WasmBackendLike;
  const xt = r.transpose(x, [3, 0, 1, 2]); // [Cin, N, H, W]
  const xPad = r.adopt(backend.makeOutput([cin, grid], 'float32'));
  const dyPad = r.adopt(backend.makeOutput([1, length, cout], 'float32'));
  {
    const xv = backend.typedArrayFromHeap(xt);
    const pad = backend.typedArrayFromHeap(xPad);
    pad.fill(0);
    for (let ci = 0, src = 0; ci < cin; ci++) {
      for (let b = 0; b < n; b++) {
        for (let y = 0, dst = ci * grid + b * plane + pt * wp + pl; y < h; y++, src += w, dst += wp) pad.set(xv.subarray(src, src + w), dst);
      }
    }
    const dyv = backend.typedArrayFromHeap(dy);
    const dyp = backend.typedArrayFromHeap(dyPad);
    dyp.fill(0);
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < oh; y++) {
        const src = (b * oh + y) * ow * cout;
        dyp.set(dyv.subarray(src, src + ow * cout), (b * plane + y * wp) * cout);
      }
    }
  }
  // The same chunks of output rows as the other path, so that both sum the same products in the same order.
  const dyRows = n * oh;
  const rowsPerChunk = outputRowsPerChunk(rows, ow, dyRows);
  const chunks = Math.ceil(dyRows / rowsPerChunk);
  const gridStart = (row: number) => Math.floor(row / oh) * plane + (row % oh) * wp;
  const acc = new Float32Array(rows * cout);
  for (let c = 0; c < chunks; c++) {
    const rowBegin = c * rowsPerChunk;
    const rowEnd = Math.min(dyRows, rowBegin + rowsPerChunk);
    const c0 = gridStart(rowBegin);
    const mc = gridStart(rowEnd - 1) + ow - c0;
    const pT = backend.makeOutput([1, rows, mc], 'float32');
    const dyChunk = chunks > 1 ? backend.makeOutput([1, mc, cout], 'float32') : dyPad;
    // Views are taken after every allocation (a heap growth detaches older views).
    const pad = backend.typedArrayFromHeap(xPad);
    const pv = backend.typedArrayFromHeap(pT);
    if (chunks > 1) backend.typedArrayFromHeap(dyChunk).set(backend.typedArrayFromHeap(dyPad).subarray(c0 * cout, (c0 + mc) * cout));
    let dst = 0;
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        for (let ci = 0; ci < cin; ci++, dst += mc) {
          const src = ci * grid + kh * wp + kw + c0;
          pv.set(pad.subarray(src, src + mc), dst);
        }
      }
    }
    const prod = r.run('BatchMatMul', { a: pT, b: dyChunk }, { transposeA: false, transposeB: false });
    backend.disposeData(pT.dataId);
    if (chunks > 1) backend.disposeData(dyChunk.dataId);
    const pr = backend.typedArrayFromHeap(prod);
    if (chunks === 1) acc.set(pr);
    else for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + pr[i]!;
  }
  backend.typedArrayFromHeap(out).set(acc);
}

const kernelFunc = (({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const r = new KernelRunner(backend as KernelBackend, 'wasm');
  try {
    return conv2dBackpropFilterWasm(r, x, dy, attrs as unknown as Conv2DBackpropFilterAttrs);
  } finally {
    r.dispose();
  }
}) as KernelFunc;

export const wasmConv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc,
};
