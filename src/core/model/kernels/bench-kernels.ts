// Timing of the project's wasm conv backprop kernels against the forward conv (not a test).
//   npx tsx src/core/model/kernels/bench-kernels.ts [H W C batch]      (default 128 256 16 2: a 256x128 image)
// Prints the best of several runs per kernel in ms (wall time including the read-back).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend';
import { conv2dBackpropInputOptions } from './conv2dBackpropInput';
import { conv2dBackpropFilterOptions } from './conv2dBackpropFilter';
import { stockKernelFunc } from './index';
import { trainingBatchNorm } from './batchNormTraining';

type Pad = 'same' | 'valid';

function best(fn: () => tf.Tensor, runs: number): number {
  fn().dispose();
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = fn();
    out.dataSync();
    min = Math.min(min, performance.now() - t0);
    out.dispose();
  }
  return min;
}

async function main(): Promise<void> {
  const [h = 128, w = 256, c = 16, n = 2] = process.argv.slice(2).map(Number);
  const runs = 7;
  const info = await initBackend('wasm');
  console.log(`backend ${info.detail}; input [${n}, ${h}, ${w}, ${c}], filters ${c}->${c}, best of ${runs}`);
  const x = tf.randomNormal([n, h, w, c]) as tf.Tensor4D;
  const rows: string[][] = [['layer', 'forward', 'filter grad', 'filter grad (rows)', 'input grad', 'input grad (stock)']];
  for (const [k, s, pad] of [[3, 1, 'same'], [3, 2, 'same'], [1, 1, 'same'], [1, 2, 'same']] as [number, number, Pad][]) {
    const filter = tf.randomNormal([k, k, c, c]) as tf.Tensor4D;
    const y = tf.conv2d(x, filter, s, pad);
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const attrs = { strides: [s, s], pad, dataFormat: 'NHWC' };
    const fwd = best(() => tf.conv2d(x, filter, s, pad), runs);
    const dwRun = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape }) as tf.Tensor;
    const dw = best(dwRun, runs);
    conv2dBackpropFilterOptions.strideOne = 'rows';
    const dwRows = best(dwRun, runs);
    conv2dBackpropFilterOptions.strideOne = 'grid';
    const dxRun = () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
    const dx = best(dxRun, runs);
    conv2dBackpropInputOptions.variant = 'stock';
    const dxStock = best(dxRun, Math.min(runs, 3));
    conv2dBackpropInputOptions.variant = 'conv';
    rows.push([`${k}x${k} stride ${s}`, fwd, dw, dwRows, dx, dxStock].map((v) => (typeof v === 'number' ? v.toFixed(1) : v)));
    tf.dispose([filter, y, dy]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((v, i) => v.padStart(widths[i]!)).join('  '));

  // Tile as tfjs-core's batch-norm gradient uses it: [1, 1, 1, C] statistics to the activation size.
  const stats = tf.randomNormal([1, 1, 1, c]);
  const reps = [n, h, w, 1];
  const ours = best(() => tf.tile(stats, reps), runs);
  const stock = stockKernelFunc('Tile', 'wasm');
  const stockMs = stock
    ? best(() => tf.engine().makeTensorFromTensorInfo(
      stock({ inputs: { x: stats }, backend: tf.backend(), attrs: { reps } }) as tf.TensorInfo), 3)
    : NaN;
  console.log(`Tile [1,1,1,${c}] -> [${n},${h},${w},${c}]: ${ours.toFixed(1)} ms (stock ${stockMs.toFixed(1)} ms)`);

  // Training batch norm + relu, forward and backward: the fused kernels against tfjs's composite.
  const scale = tf.randomNormal([c]) as tf.Tensor1D;
  const offset = tf.randomNormal([c]) as tf.Tensor1D;
  const weights = tf.randomNormal(x.shape);
  const bnStep = (f: typeof trainingBatchNorm) => () => {
    const [gx, gs, go] = tf.grads((a: tf.Tensor, b: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor1D, o as tf.Tensor1D, 1e-5, 'relu').y, weights)))([x, scale, offset]);
    tf.dispose([gs!, go!]);
    return gx!;
  };
  const compositeBn: typeof trainingBatchNorm = (a, b, o, eps) => {
    // (the composite, as network.ts ran it before the fused kernels)
    const { mean, variance } = tf.moments(a, [0, 1, 2]);
    return { y: tf.relu(tf.batchNorm(a, mean, variance, o, b, eps)) as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  };
  const fusedMs = best(bnStep(trainingBatchNorm), runs);
  const compositeMs = best(bnStep(compositeBn), runs);
  console.log(`batch norm + relu, forward and backward, [${n},${h},${w},${c}]: fused ${fusedMs.toFixed(1)} ms, composite ${compositeMs.toFixed(1)} ms`);
}

void main();
