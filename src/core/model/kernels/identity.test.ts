import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackends } from './testUtil';

describe('wasm Identity', () => {
  beforeAll(async () => {
    await setupBackends();
    await tf.setBackend('wasm');
  });

  it('shares the buffer: a clone outlives its original, and the memory goes when both are disposed', async () => {
    const buffers = () => tf.engine().backend.numDataIds();
    const before = buffers();
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    // One buffer in the wasm heap, referenced twice.
    expect(buffers() - before).toBe(1);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(y.shape).toEqual([2, 3]);
    expect(buffers() - before).toBe(1);
    y.dispose();
    expect(buffers()).toBe(before);
  });

  it('keeps int32 and bool values, and a variable assigned after cloning does not change the clone', async () => {
    const ints = tf.tensor1d([7, -3], 'int32');
    expect(Array.from(await tf.clone(ints).data())).toEqual([7, -3]);
    const bools = tf.greater(ints, 0);
    expect(Array.from(await tf.clone(bools).data())).toEqual([1, 0]);
    const v = tf.variable(tf.tensor1d([1, 2]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([9, 9]));
    expect(Array.from(await snapshot.data())).toEqual([1, 2]);
    expect(Array.from(await v.data())).toEqual([9, 9]);
    tf.dispose([ints, bools, v, snapshot]);
  });

  it('leaves a training step with the same tensor count and bytes after it as before (no leak)', async () => {
    const w = tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 0.1, 'float32', 1));
    const x = tf.randomNormal([1, 6, 6, 2], 0, 1, 'float32', 2) as tf.Tensor4D;
    const step = () => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x, w as unknown as tf.Tensor4D, 1, 'same'))), [w]);
      w.assign(tf.sub(w, tf.mul(grads[w.name]!, 0.01)));
      tf.dispose(grads);
    };
    tf.tidy(step);
    const counts = () => ({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() });
    const after1 = counts();
    for (let i = 0; i < 3; i++) tf.tidy(step);
    expect(counts()).toEqual(after1);
    tf.dispose([w, x]);
  });
});
