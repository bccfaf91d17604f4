// The committed kernelsWasm.ts is the build of the committed kernels.wat (run `npm run build:simd` after editing it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simdModuleSource } from './buildSimd.mjs';

const dir = join(import.meta.dirname, '..', 'src', 'core', 'model', 'kernels', 'simd');

describe('the SIMD kernels module', () => {
  it('is built from kernels.wat as committed', async () => {
    const built = await simdModuleSource(readFileSync(join(dir, 'kernels.wat'), 'utf8'));
    expect(readFileSync(join(dir, 'kernelsWasm.ts'), 'utf8')).toBe(built);
  });

  it('refuses wasm text that does not assemble, naming the line', async () => {
    await expect(simdModuleSource('(module (func (export "f") (f32.add)))')).rejects.toThrow(/kernels\.wat:1/);
  });
});
