import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend';
import { conv2dBackpropFilterOptions as o } from './conv2dBackpropFilter';
async function main() {
  await initBackend('wasm');
  const cases: [number[], number, 'same' | 'valid'][] = [[[2, 16, 32, 32], 32, 'same'], [[2, 16, 32, 32], 1, 'same'], [[2, 16, 32, 32], 19, 'same'], [[2, 32, 64, 24], 24, 'same'], [[8, 10, 18, 32], 19, 'valid'], [[2, 32, 64, 32], 32, 'same'], [[2, 64, 128, 24], 24, 'same'], [[2, 128, 256, 16], 16, 'same']];
  for (const [xs, cout, pad] of cases) {
    const x = tf.randomNormal(xs) as tf.Tensor4D; const f = [3, 3, xs[3]!, cout] as [number, number, number, number];
    const y = tf.conv2d(x, tf.zeros(f) as tf.Tensor4D, 1, pad); const dy = tf.randomNormal(y.shape);
    const run = () => { const t0 = performance.now(); const r = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad, dataFormat: 'NHWC', filterShape: f }) as tf.Tensor; r.dataSync(); r.dispose(); return performance.now() - t0; };
    const t: Record<string, number[]> = { grid: [], rows: [] };
    for (let i = 0; i < 25; i++) for (const v of ['grid', 'rows'] as const) { o.strideOne = v; t[v]!.push(run()); }
    const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1]!.toFixed(2);
    console.log(`[${xs}] -> ${cout} ${pad}: grid ${med(t.grid!)} rows ${med(t.rows!)}`);
  }
}
void main();
