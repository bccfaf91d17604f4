import { afterEach, describe, expect, it, vi } from 'vitest';
import { gpuCheckMain } from './gpuCheck';

describe('the GPU check kit program', () => {
  const errors: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    errors.length = 0;
  });
  const run = async (args: string[]) => {
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    return gpuCheckMain(args);
  };

  it('answers a usage mistake with one sentence and exit code 2', async () => {
    expect(await run(['loss-check', '--crop', '250x128'])).toBe(2);
    expect(errors).toEqual(['gpu-check: --crop looks like 256x128 (multiples of 16), got "250x128".']);
    errors.length = 0;
    expect(await run(['loss-check', '--steps', '0'])).toBe(2);
    expect(errors).toEqual(['gpu-check: --steps must be a whole number ≥ 1, got "0".']);
    errors.length = 0;
    expect(await run(['loss-check', '--preset', 'huge'])).toBe(2);
    expect(errors).toEqual(['gpu-check: --preset must be one of tiny, small, paper, got "huge".']);
    errors.length = 0;
    expect(await run(['warp-drive'])).toBe(2);
    expect(errors).toEqual(['gpu-check: unknown command "warp-drive": the commands are adapter, loss-check and bench-engine.']);
  });

  it('passes bench-engine through to `corda bench-engine`, with its own checks', async () => {
    expect(await run(['bench-engine', '--presets', 'tiny', '--sizes', '30x16'])).toBe(1);
    expect(errors).toEqual(['gpu-check: Sizes look like 256x128 (multiples of 16), got "30x16".']);
    errors.length = 0;
    expect(await run(['bench-engine', '--steps', 'two'])).toBe(2);
    expect(errors).toEqual(['gpu-check: --steps must be a whole number ≥ 1, got "two".']);
  });
});
