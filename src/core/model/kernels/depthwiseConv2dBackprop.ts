// wasm DepthwiseConv2dNativeBackpropFilter / -Input (missing in tfjs-backend-wasm 4.22). Depthwise convs are
// memory-bound and small, so these are direct loops over the wasm heap (NHWC, any stride and padding;
// dilation 1 as tfjs-core's gradient requires). Filter [KH, KW, C, M], dy [N, OH, OW, C*M].
import { backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './util';

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
interface DwAttrs {
  strides: [number, number] | number;
  dilations?: [number, number] | number;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function convInfo(xShape: number[], filterShape: number[], attrs: DwAttrs) {
  const info = backend_util.computeConv2DInfo(xShape as [number, number, number, number],
    filterShape as [number, number, number, number], attrs.strides, attrs.dilations ?? 1, attrs.pad,
    attrs.dimRoundingMode, true, 'channelsLast');
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('wasm depthwise conv backprop: dilations other than 1 are not supported');
  }
  return info;
}

const filterKernel = (({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as DwAttrs & { filterShape: [number, number, number, number] };
  const be = backend as WasmBackendLike;
  const info = convInfo(x.shape, a.filterShape, a);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow,
    filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const m = a.filterShape[3];
  const { top: pt, left: pl } = info.padInfo;
  const cm = c * m;
  const acc = new Float64Array(fh * fw * cm);
  const out = be.makeOutput([fh, fw, c, m], 'float32');
  const xv = be.typedArrayFromHeap(x);
  const dyv = be.typedArrayFromHeap(dy);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let kh = 0; kh < fh; kh++) {
        const iy = y * sh + kh - pt;
        if (iy < 0 || iy >= h) continue;
        for (let xo = 0; xo < ow; xo++) {
          const dyBase = ((b * oh + y) * ow + xo) * cm;
          for (let kw = 0; kw < fw; kw++) {
            const ix = xo * sw + kw - pl;
            if (ix < 0 || ix >= w) continue;
            const xBase = ((b * h + iy) * w + ix) * c;
            const aBase = (kh * fw + kw) * cm;
            if (m === 1) {
              for (let ch = 0; ch < c; ch++) acc[aBase + ch] = acc[aBase + ch]! + xv[xBase + ch]! * dyv[dyBase + ch]!;
            } else {
              for (let ch = 0; ch < c; ch++) {
                const xval = xv[xBase + ch]!;
                for (let q = 0, k = ch * m; q < m; q++, k++) acc[aBase + k] = acc[aBase + k]! + xval * dyv[dyBase + k]!;
              }
            }
          }
        }
      }
    }
  }
  be.typedArrayFromHeap(out).set(acc);
  return out;
}) as KernelFunc;

const inputKernel = (({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as DwAttrs & { inputShape: [number, number, number, number] };
  const be = backend as WasmBackendLike;
  const info = convInfo(a.inputShape, filter.shape, a);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow,
    filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const m = filter.shape[3]!;
  const { top: pt, left: pl } = info.padInfo;
  const cm = c * m;
  const out = be.makeOutput([n, h, w, c], 'float32');
  const dxv = be.typedArrayFromHeap(out);
  dxv.fill(0);
  const dyv = be.typedArrayFromHeap(dy);
  const wv = be.typedArrayFromHeap(filter);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let kh = 0; kh < fh; kh++) {
        const iy = y * sh + kh - pt;
        if (iy < 0 || iy >= h) continue;
        for (let xo = 0; xo < ow; xo++) {
          const dyBase = ((b * oh + y) * ow + xo) * cm;
          for (let kw = 0; kw < fw; kw++) {
            const ix = xo * sw + kw - pl;
            if (ix < 0 || ix >= w) continue;
            const xBase = ((b * h + iy) * w + ix) * c;
            const wBase = (kh * fw + kw) * cm;
            if (m === 1) {
              for (let ch = 0; ch < c; ch++) dxv[xBase + ch] = dxv[xBase + ch]! + dyv[dyBase + ch]! * wv[wBase + ch]!;
            } else {
              for (let ch = 0; ch < c; ch++) {
                let s = 0;
                for (let q = 0, k = ch * m; q < m; q++, k++) s += dyv[dyBase + k]! * wv[wBase + k]!;
                dxv[xBase + ch] = dxv[xBase + ch]! + s;
              }
            }
          }
        }
      }
    }
  }
  return out;
}) as KernelFunc;

export const wasmDepthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: filterKernel,
};

export const wasmDepthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: inputKernel,
};
