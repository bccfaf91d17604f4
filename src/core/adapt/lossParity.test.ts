import { describe, expect, it } from 'vitest';
import { compareLosses, lossSequence } from './lossParity';

describe('compareLosses', () => {
  it('gives the largest relative difference and its step', () => {
    expect(compareLosses([2, 4, 8], [2, 4, 8])).toEqual({ maxRelDiff: 0, worstStep: 0 });
    const r = compareLosses([2, 4, 8], [2, 4.4, 8.4]);
    expect(r.worstStep).toBe(1);
    expect(r.maxRelDiff).toBeCloseTo(0.1, 12);
  });

  it('counts a NaN or an infinite loss on either side as a failure, never as a match', () => {
    expect(compareLosses([1, NaN], [1, NaN])).toEqual({ maxRelDiff: Infinity, worstStep: 1 });
    expect(compareLosses([1, 2], [Infinity, 2]).maxRelDiff).toBe(Infinity);
  });

  it('refuses sequences of different lengths', () => {
    expect(() => compareLosses([1, 2], [1])).toThrow(/2 and 1 steps/);
  });
});

describe('lossSequence', () => {
  it('trains the same run on two backends: the first losses agree, and the loss moves as the weights learn', async () => {
    const options = { preset: 'tiny' as const, width: 32, height: 16, batch: 1, steps: 3, seed: 4 };
    const wasm = await lossSequence('wasm', options);
    const cpu = await lossSequence('cpu', options);
    expect(wasm.backend.name).toBe('wasm');
    expect(cpu.backend.name).toBe('cpu');
    expect(wasm.losses).toHaveLength(3);
    for (const l of [...wasm.losses, ...cpu.losses]) expect(Number.isFinite(l) && l > 0).toBe(true);
    expect(new Set(wasm.losses).size).toBe(3);
    expect(compareLosses(wasm.losses, cpu.losses).maxRelDiff).toBeLessThanOrEqual(1e-4);
    // Another seed draws other batches and random choices: the check compares like with like only.
    const other = await lossSequence('wasm', { ...options, seed: 5 });
    expect(compareLosses(wasm.losses, other.losses).maxRelDiff).toBeGreaterThan(1e-3);
  }, 120_000);
});
