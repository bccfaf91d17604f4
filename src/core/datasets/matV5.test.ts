import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import { MatWriter, type MatVariable } from '../testFixtures/matFiles';
import { readMatVariable } from './matV5';

// Debian's python3 with python3-scipy (CORDA_MAT_PYTHON overrides it, e.g. to check the message when scipy is missing).
const PYTHON = process.env.CORDA_MAT_PYTHON ?? '/usr/bin/python3';
const hasScipy = spawnSync(PYTHON, ['-c', 'import scipy.io'], { encoding: 'utf8' }).status === 0;
const inCi = process.env.CI === 'true';
if (!hasScipy && !inCi) {
  console.log(`matV5.test: skipping the scipy.io.savemat round trip: ${PYTHON} cannot import scipy (install Debian's python3-scipy).`);
}

const work = mkdtempSync(join(tmpdir(), 'corda-mat-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Writes plain.mat and compressed.mat with the same variables, and each variable's values as C-order (row-major)
// little-endian bytes in <name>.raw: what the reader must give back, bit for bit.
const WRITE_MATS = `
import sys, numpy as np, scipy.io as sio
out = sys.argv[1]
rng = np.random.default_rng(7)
depth = rng.uniform(0.0, 700.0, (5, 7))
depth[0, 0] = np.nan; depth[0, 1] = np.inf; depth[1, 0] = -0.0; depth[1, 1] = 1e-300; depth[2, 3] = np.pi
arrays = {
  'depth_map': depth,
  'single_map': rng.standard_normal((3, 4)).astype(np.float32),
  'u16': np.array([[0, 1, 65535], [256, 4097, 12]], dtype=np.uint16),
  'u8': np.arange(6, dtype=np.uint8).reshape(3, 2) * 40,
  'i32': np.array([[-2147483648, -1, 2147483647]], dtype=np.int32),
  'cube': rng.standard_normal((2, 3, 4)),
  'big': rng.uniform(0, 80, (64, 128)).astype(np.float32),
}
for name, a in arrays.items():
  open(f'{out}/{name}.raw', 'wb').write(a.astype(a.dtype.newbyteorder('<')).tobytes(order='C'))
mats = dict(arrays, label='not numeric')
sio.savemat(f'{out}/plain.mat', mats, do_compression=False)
sio.savemat(f'{out}/compressed.mat', mats, do_compression=True)
`;

const TYPED_CLASSES = {
  depth_map: 'double',
  single_map: 'single',
  u16: 'uint16',
  u8: 'uint8',
  i32: 'int32',
  cube: 'double',
  big: 'single',
} as const;
const SHAPES = { depth_map: [5, 7], single_map: [3, 4], u16: [2, 3], u8: [3, 2], i32: [1, 3], cube: [2, 3, 4], big: [64, 128] };

describe.runIf(hasScipy || inCi)('MATLAB v5 files written by scipy.io.savemat', () => {
  const written = spawnSync(PYTHON, ['-c', WRITE_MATS, work], { encoding: 'utf8' });

  it.each(['plain.mat', 'compressed.mat'])('%s reads back exactly, in row-major order', (file) => {
    expect(written.status, written.stderr).toBe(0);
    const bytes = readFileSync(join(work, file));
    for (const [name, className] of Object.entries(TYPED_CLASSES)) {
      const m = readMatVariable(bytes, name, file);
      expect(m).toMatchObject({ name, className, dims: SHAPES[name as keyof typeof SHAPES] });
      const expected = readFileSync(join(work, `${name}.raw`));
      expect(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).equals(expected), name).toBe(true);
    }
  });

  it('refuses a character array and a missing variable with one sentence each', () => {
    expect(written.status, written.stderr).toBe(0);
    const bytes = readFileSync(join(work, 'compressed.mat'));
    expect(() => readMatVariable(bytes, 'label', 'x.mat')).toThrow(/^x\.mat: the variable "label" is a character array; only real numeric arrays .* are read\.$/);
    expect(() => readMatVariable(bytes, 'depth', 'x.mat')).toThrow(/^x\.mat has no variable "depth": it holds "depth_map", "single_map", .*"label"\.$/);
  });
});

// --- hand-written files: what scipy never writes (big-endian, narrower storage types, complex, damage) -----------

// A 2x3 double matrix [[1, 2, 3], [4, 5, 6]] is stored column by column: 1 4 2 5 3 6.
const MATRIX: MatVariable = { name: 'depth_map', classNumber: 6, dims: [2, 3], storedType: 9, values: [1, 4, 2, 5, 3, 6] };

describe('MATLAB v5 files the reader builds by hand', () => {
  it.each([
    ['little-endian', true, false],
    ['big-endian', false, false],
    ['big-endian, compressed', false, true],
  ])('reads a %s file', (_, littleEndian, compressed) => {
    const bytes = new MatWriter(littleEndian).add({ ...MATRIX, name: 'other' }, compressed).add(MATRIX, compressed).bytes();
    const m = readMatVariable(bytes, 'depth_map');
    expect(m).toMatchObject({ className: 'double', dims: [2, 3] });
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('widens values MATLAB stored in a narrower type to the class, and reads short names in the small format', () => {
    const bytes = new MatWriter(false).add({ name: 'd', classNumber: 6, dims: [1, 3], storedType: 2, values: [0, 7, 255] })
      .add({ name: 'w', classNumber: 11, dims: [2, 1], storedType: 4, values: [65535, 3] }).bytes();
    expect(readMatVariable(bytes, 'd')).toMatchObject({ className: 'double', data: Float64Array.from([0, 7, 255]) });
    expect(readMatVariable(bytes, 'w')).toMatchObject({ className: 'uint16', dims: [2, 1], data: Uint16Array.from([65535, 3]) });
  });

  it('refuses, in one sentence each, what it does not read', () => {
    const sentence = /^[^\n]+\.$/;
    const cases: [string, Buffer][] = [
      ['not a MAT-file', Buffer.from('\x89PNG\r\n\x1a\n'.padEnd(200, '\0'), 'latin1')],
      ['MATLAB 7.3', new MatWriter(true).add(MATRIX).bytes(0x0200)],
      ['truncated', new MatWriter(true).add(MATRIX).bytes().subarray(0, 180)],
      ['truncated compressed', new MatWriter(true).add(MATRIX, true).bytes().subarray(0, 150)],
      ['complex', new MatWriter(true).add({ ...MATRIX, complex: true }).bytes()],
      ['cell', new MatWriter(true).add({ ...MATRIX, classNumber: 1 }).bytes()],
      ['int64', new MatWriter(true).add({ ...MATRIX, classNumber: 14 }).bytes()],
    ];
    const messages = cases.map(([what, bytes]) => {
      try {
        readMatVariable(bytes, 'depth_map', 'f.mat');
      } catch (error) {
        expect(error, what).toBeInstanceOf(UserError);
        return (error as Error).message;
      }
      throw new Error(`${what}: read without complaint`);
    });
    for (const m of messages) expect(m).toMatch(sentence);
    expect(messages[0]).toMatch(/not a MATLAB v5 MAT-file/);
    expect(messages[1]).toMatch(/MATLAB 7\.3 \(HDF5\)/);
    expect(messages[2]).toMatch(/truncated or damaged/);
    expect(messages[3]).toMatch(/truncated or damaged/);
    expect(messages[4]).toMatch(/complex/);
    expect(messages[5]).toMatch(/cell array/);
    expect(messages[6]).toMatch(/64-bit integer/);
  });
});
