import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend';
import { resizeBilinearGradInto } from './resizeBilinearGrad';
async function main() {
  await initBackend('wasm');
  const images = tf.zeros([2, 16, 32, 19]); const dy = tf.randomNormal([2, 128, 256, 19]);
  const stock = tf.engine().runKernel('ResizeBilinearGrad', { images, dy }, { alignCorners: false, halfPixelCenters: false }) as tf.Tensor;
  const a = stock.dataSync();
  const ours = resizeBilinearGradInto({ dy: dy.dataSync(), dyShape: dy.shape, imagesShape: images.shape, alignCorners: false, halfPixelCenters: false }, new Float32Array(a.length));
  let diff = 0, maxd = 0; for (let i = 0; i < a.length; i++) if (a[i] !== ours[i]) { diff++; maxd = Math.max(maxd, Math.abs(a[i]! - ours[i]!)); }
  console.log('differ', diff, 'of', a.length, 'max', maxd);
}
void main();
