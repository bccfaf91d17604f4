// bench-predict on a tiny size: both paths run and time the same work, and the extrapolation is what it says.
import { describe, expect, it } from 'vitest';
import { benchPredict } from './benchPredict';

describe('bench-predict', () => {
  it('times tfjs and ONNX Runtime per image and extrapolates to the whole set', async () => {
    const lines: string[] = [];
    const result = await benchPredict({ presets: ['tiny'], width: 64, height: 32, images: 40, timed: 2, backend: 'wasm', log: (line) => lines.push(line) });
    expect(result).toMatchObject({ backend: expect.stringMatching(/^wasm/), images: 40, size: '64x32' });
    expect(result.rows.map((r) => [r.preset, r.path, r.failed])).toEqual([
      ['tiny', 'tfjs', null],
      ['tiny', 'onnxruntime', null],
    ]);
    for (const row of result.rows) {
      expect(row.msPerImage).toBeGreaterThan(0);
      expect(row.cpuMsPerImage).toBeGreaterThan(0);
      expect(row.extrapolatedSeconds).toBeCloseTo((row.msPerImage! * 40) / 1000, 6);
    }
    expect(result.rows[1]!.runtime).toMatch(/^ONNX Runtime 1\.30\.0 on the CPU/);
    expect(result.layersMsPerImage).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes('extrapolated from 2'))).toHaveLength(2);
  });

  it('refuses an unknown backend with one sentence', async () => {
    await expect(benchPredict({ presets: ['tiny'], width: 64, height: 32, images: 1, timed: 1, backend: 'tpu', log: () => undefined })).rejects.toThrow(/^Unknown backend "tpu": choose one of /);
  });
});
