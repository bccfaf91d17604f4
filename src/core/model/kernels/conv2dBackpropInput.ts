// Faster wasm Conv2DBackpropInput. The stock wasm kernel is a plain loop, ~10x slower than the forward conv.
// dx is a sum of forward convolutions of dy (XNNPACK) with the filter flipped spatially and its channels swapped:
//   stride 1: dx = conv2d(dy, flip(W)^T, stride 1, pad top = KH-1-padTop, ...).
//   stride s: split dx into s*s phases (dx[s*q + p]); phase p only meets the filter taps k = r_p + s*j with
//     r_p = (p + padTop) mod s, so it is a stride-1 conv of dy with that flipped sub-filter; the phases are then
//     interleaved into dx with a JS loop (tfjs-wasm's DepthToSpace was ~10x slower). Same multiply count as the
//     forward conv (no zeros inserted).
// Other cases (NCHW, unequal strides, padding the construction cannot express) use the stock kernel.
import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelRunner, type WasmBackendLike } from './util';

export type InputGradVariant = 'conv' | 'stock';
/** 'conv' is the default; 'stock' forces the original kernel (benchmark and tests). */
export const conv2dBackpropInputOptions: { variant: InputGradVariant } = { variant: 'conv' };

interface Phase {
  r: number; // first filter tap of this phase
  taps: number; // J: taps r, r + s, ...
  before: number; // conv padding before (may be negative: not expressible)
  after: number; // conv padding after
}

/** Phases along one axis: dx[s*q + p] = sum_j dy[q + c_p - j] * W[r_p + s*j], q in [0, Q). */
function phases(inSize: number, outSize: number, filterSize: number, stride: number, padBefore: number) {
  const q = Math.ceil(inSize / stride);
  const list: Phase[] = [];
  for (let p = 0; p < stride; p++) {
    const r = (p + padBefore) % stride;
    const taps = r < filterSize ? Math.ceil((filterSize - r) / stride) : 0;
    const c = (p + padBefore - r) / stride;
    const before = taps - 1 - c;
    const after = q - outSize - before + taps - 1;
    list.push({ r, taps, before, after });
  }
  return { q, list };
}

/** Returns null when this construction does not apply (the caller then uses the stock kernel). */
export function conv2dBackpropInputByConv(
  r: KernelRunner,
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DBackpropInputAttrs,
): TensorInfo | null {
  const backend = r.backend as WasmBackendLike;
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs;
  if (backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') return null;
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
    strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outHeight: oh, outWidth: ow,
    outChannels: cout, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  if (dy.shape[1] !== oh || dy.shape[2] !== ow) return null;
  const rowsP = phases(h, oh, fh, sh, padInfo.top);
  const colsP = phases(w, ow, fw, sw, padInfo.left);
  for (const p of [...rowsP.list, ...colsP.list]) {
    if (p.taps > 0 && (p.before < 0 || p.after < 0)) return null;
  }

  const phaseOut: (TensorInfo | null)[] = [];
  for (const py of rowsP.list) {
    for (const px of colsP.list) {
      if (py.taps === 0 || px.taps === 0) {
        phaseOut.push(null); // no tap reaches this phase: its dx is zero
        continue;
      }
      // sub[j'y, j'x, co, ci] = W[r_y + sh*(Jy-1-j'y), r_x + sw*(Jx-1-j'x), ci, co]
      const sub = r.adopt(backend.makeOutput([py.taps, px.taps, cout, cin], 'float32'));
      const wv = backend.typedArrayFromHeap(filter);
      const sv = backend.typedArrayFromHeap(sub);
      let d = 0;
      for (let jy = 0; jy < py.taps; jy++) {
        const kh = py.r + sh * (py.taps - 1 - jy);
        for (let jx = 0; jx < px.taps; jx++) {
          const kw = px.r + sw * (px.taps - 1 - jx);
          const base = (kh * fw + kw) * cin * cout;
          for (let co = 0; co < cout; co++) {
            for (let ci = 0; ci < cin; ci++) sv[d++] = wv[base + ci * cout + co]!;
          }
        }
      }
      phaseOut.push(r.run('Conv2D', { x: dy, filter: sub }, {
        strides: [1, 1],
        pad: [[0, 0], [py.before, py.after], [px.before, px.after], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      }));
    }
  }

  if (sh === 1 && sw === 1 && phaseOut[0]) return phaseOut[0];

  const qh = rowsP.q;
  const qw = colsP.q;
  // Interleave the phases: dx[b, sh*qy + py, sw*qx + px, :] = phase[py][px][b, qy, qx, :].
  const out = backend.makeOutput([n, h, w, cin], 'float32');
  const ov = backend.typedArrayFromHeap(out);
  if (phaseOut.some((ph) => !ph)) ov.fill(0); // phases no tap reaches stay zero
  for (let py = 0; py < sh; py++) {
    for (let px = 0; px < sw; px++) {
      const ph = phaseOut[py * sw + px];
      if (!ph) continue;
      const pv = backend.typedArrayFromHeap(ph);
      for (let b = 0; b < n; b++) {
        for (let qy = 0; qy < qh; qy++) {
          const y = sh * qy + py;
          if (y >= h) break;
          const cols = Math.min(qw, Math.floor((w - 1 - px) / sw) + 1);
          let src = (b * qh + qy) * qw * cin;
          let dst = ((b * h + y) * w + px) * cin;
          const step = sw * cin;
          for (let qx = 0; qx < cols; qx++, src += cin, dst += step) {
            for (let c = 0; c < cin; c++) ov[dst + c] = pv[src + c]!;
          }
        }
      }
    }
  }
  return out;
}

/** Wraps the stock kernel function that this kernel replaces. */
export function makeWasmConv2DBackpropInputConfig(stock: KernelFunc | undefined): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    if (conv2dBackpropInputOptions.variant === 'conv') {
      const r = new KernelRunner(backend as KernelBackend, 'wasm');
      try {
        const out = conv2dBackpropInputByConv(r, dy, filter, attrs as unknown as Conv2DBackpropInputAttrs);
        if (out) return r.keep(out);
      } finally {
        r.dispose();
      }
    }
    if (!stock) throw new Error('wasm Conv2DBackpropInput: no fallback kernel for these arguments');
    return stock(args);
  }) as KernelFunc;
  return { kernelName: Conv2DBackpropInput, backendName: 'wasm', kernelFunc };
}
