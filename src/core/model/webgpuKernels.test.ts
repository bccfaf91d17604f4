// Every kernel a training step and a prediction run, for every preset, exists in tfjs-backend-webgpu. Recorded on
// wasm (no GPU needed), so that a network change that needs a kernel WebGPU lacks fails here and not on a GPU.
// Importing the package registers its kernels (its backend only where navigator.gpu exists).
import '@tensorflow/tfjs-backend-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../adapt/config';
import { predictSample } from '../adapt/predict';
import { Trainer } from '../adapt/trainer';
import { Rng } from '../random';
import { initBackend } from './backend';
import { BatchNormTraining, BatchNormTrainingGrad } from './kernels/batchNormTraining';
import { Blend, SgdMomentumStep } from './kernels/update';
import { PickClass, SoftmaxCrossEntropyGrad } from './kernels/crossEntropyGrad';
import * as tf from './tf';

const W = 32;
const H = 16;

function crop(seed: number) {
  const random = new Rng(seed);
  return {
    rgb: new Float32Array(W * H * 3).map(() => random.next() * 255),
    labels: new Uint8Array(W * H).map((_, i) => (i % W < W / 2 ? 0 : 13)),
    depth: new Float32Array(W * H).map(() => 2 + random.next() * 50),
  };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('the network on WebGPU', () => {
  // `paper` (the reference DeepLabv2 ResNet-101, ~48 M parameters) is left out for its size; it adds Pad, MaxPool and
  // Reverse (BGR input) to tiny's kernels.
  for (const preset of ['tiny', 'small'] as const) {
    it(`finds every kernel of a ${preset} CorDA step and prediction in tfjs-backend-webgpu`, async () => {
      const trainer = new Trainer(defaultConfig('corda', preset, { crop: { width: W, height: H }, iters: 2, batchSize: 1 }));
      try {
        const used = new Set<string>();
        const batch = { source: [crop(1)], target: [{ ...crop(2), labels: null }] };
        // The fused training batch norm, cross-entropy kernels and parameter updates exist on wasm and cpu only; elsewhere the step runs
        // tfjs's composites, so it is recorded with them.
        const fused = [BatchNormTraining, BatchNormTrainingGrad, SgdMomentumStep, Blend, SoftmaxCrossEntropyGrad, PickClass].map((name) => tf.getKernel(name, 'wasm')!);
        for (const k of fused) tf.unregisterKernel(k.kernelName, 'wasm');
        const step = await tf.profile(async () => {
          await trainer.step(batch, 0, new Rng(3));
          await predictSample(trainer.student, { width: W, height: H, rgb: Uint8Array.from(batch.source[0]!.rgb), labels: null, depth: batch.source[0]!.depth });
        }).finally(() => fused.forEach((k) => tf.registerKernel(k)));
        for (const k of step.kernels) used.add(k.name);
        // Profiles also list custom gradients ("forward"): only names wasm has a kernel for are kernels.
        const kernels = [...used].filter((name) => tf.getKernel(name, 'wasm'));
        expect(kernels.length).toBeGreaterThan(30);
        expect(kernels.filter((name) => !tf.getKernel(name, 'webgpu')).sort()).toEqual([]);
      } finally {
        trainer.dispose();
      }
    }, 60_000);
  }
});
