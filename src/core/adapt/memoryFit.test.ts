// The wasm heap check: the estimate's arithmetic and the refusal's sentence. The estimate's calibration against
// real steps (memoryFit.ts) was read with tf.profile in plain Node; under vitest the same step's profile reads a
// third of that peak, so it is not asserted here.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../model/backend';
import { defaultConfig } from './config';
import { checkStepFits, estimateStepBytes, largestBatch, measureStepMemory, WASM_STEP_BUDGET_BYTES } from './memoryFit';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('the step memory estimate', () => {
  it('grows with the crop and the batch, and finds the largest batch that fits', async () => {
    const model = await measureStepMemory({ preset: 'tiny', method: 'corda' });
    const crop = { width: 256, height: 128 };
    const one = estimateStepBytes(model, { crop, batchSize: 1 });
    expect(estimateStepBytes(model, { crop, batchSize: 2 })).toBeGreaterThan(one);
    expect(estimateStepBytes(model, { crop: { width: 512, height: 256 }, batchSize: 1 })).toBeGreaterThan(one);
    const fits = largestBatch(model, { crop }, WASM_STEP_BUDGET_BYTES);
    expect(estimateStepBytes(model, { crop, batchSize: fits })).toBeLessThanOrEqual(WASM_STEP_BUDGET_BYTES);
    expect(estimateStepBytes(model, { crop, batchSize: fits + 1 })).toBeGreaterThan(WASM_STEP_BUDGET_BYTES);
  });
});

describe('checkStepFits', () => {
  const tiny = (width: number, height: number, batchSize: number) => ({ ...defaultConfig('corda', 'tiny', { crop: { width, height } }), batchSize });

  it('lets a step through that fits the wasm heap', async () => {
    await expect(checkStepFits(tiny(256, 128, 2), 'wasm')).resolves.toBeUndefined();
  });

  it('refuses one that would not, with one sentence that says which batch fits', async () => {
    await expect(checkStepFits(tiny(1024, 512, 64), 'wasm')).rejects.toThrow(
      /^A tiny step at 1024x512, batch 64, needs about [\d.]+ GiB, more than the wasm backend's 3\.6 GiB: batch \d+ fits at this crop \(or train on a GPU backend\)\.$/,
    );
  });

  it('says which crop fits where not even batch 1 does, and counts a slice per data-parallel thread', async () => {
    await expect(checkStepFits(tiny(4096, 2048, 1), 'wasm')).rejects.toThrow(/needs about [\d.]+ GiB, .*: a crop of about \d+x\d+ fits \(or/);
    await expect(checkStepFits(tiny(1024, 512, 64), 'wasm', 2)).rejects.toThrow(/per thread \(32 of the batch in each of 2\)/);
  });

  it('leaves backends without the wasm heap unchecked', async () => {
    await expect(checkStepFits(tiny(4096, 2048, 64), 'webgpu')).resolves.toBeUndefined();
  });
});
