// The reader against checkpoints torch.save wrote (scripts/torch_checkpoint_fixtures.py, Debian's python3-torch):
// every value in both formats, and one sentence for each file that must not load.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../shared/api';
import { allTensors, readTorchCheckpoint, readTorchCheckpointFile, stateDictOf, type PyValue } from './index';
import { isDict, isTensor } from './values';

const PYTHON = process.env.CORDA_TWIN_PYTHON ?? '/usr/bin/python3';
const FIXTURES = join(__dirname, '..', '..', '..', '..', 'scripts', 'torch_checkpoint_fixtures.py');

const torchCheck = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const hasTorch = torchCheck.status === 0;
const inCi = process.env.CI === 'true';
if (!hasTorch && !inCi) {
  console.log(`torchCheckpoint/read.test: skipping the checkpoint tests: ${PYTHON} cannot import torch (install Debian's python3-torch).`);
}

/** The reader's value in the JSON form the fixture script writes. */
function plain(value: PyValue): unknown {
  if (isTensor(value)) {
    const values = value.data instanceof BigInt64Array ? Array.from(value.data, String) : Array.from(value.data);
    return { tensor: { dtype: value.dtype, shape: value.shape, values, parameter: value.parameter } };
  }
  if (isDict(value)) return { dict: [...value].map(([k, v]) => [plain(k), plain(v)]) };
  if (Array.isArray(value)) return { list: value.map(plain) };
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (typeof value === 'bigint') return { int: String(value) };
  return value;
}

async function refusal(file: string): Promise<string> {
  const error = await readTorchCheckpointFile(join(dir, file)).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  const message = (error as UserError).message;
  // One sentence: no line breaks, one full stop at the end.
  expect(message).not.toMatch(/\n/);
  expect(message).toMatch(/\.$/);
  return message;
}

let dir = '';

describe.skipIf(!hasTorch && !inCi)('reading torch.save checkpoints', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'corda-torch-ckpt-'));
    const run = spawnSync(PYTHON, [FIXTURES, dir], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`the fixture script failed: ${run.stderr}`);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const name of ['mixed', 'authors', 'parallel', 'scale']) {
    for (const format of ['zip', 'legacy'] as const) {
      it(`reproduces every value of "${name}" in the ${format} format`, async () => {
        const checkpoint = await readTorchCheckpointFile(join(dir, `${name}.${format}.pth`));
        expect(checkpoint.format).toBe(format);
        expect(plain(checkpoint.root)).toEqual(JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')));
      });
    }
  }

  it('reads pickle protocol 4 as well', async () => {
    const checkpoint = await readTorchCheckpointFile(join(dir, 'authors.protocol4.pth'));
    expect(plain(checkpoint.root)).toEqual(JSON.parse(readFileSync(join(dir, 'authors.json'), 'utf8')));
  });

  it("finds the authors' model and EMA teacher and strips module. and Scale. prefixes", async () => {
    const authors = (await readTorchCheckpointFile(join(dir, 'authors.zip.pth'))).root;
    const model = stateDictOf(authors, 'model');
    const ema = stateDictOf(authors, 'ema_model');
    expect(model.path).toBe('model');
    expect(ema.path).toBe('ema_model');
    expect([...model.tensors.keys()]).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'layer5.weight', 'layer5.bias']);
    expect(model.tensors.get('conv1.weight')!.data).not.toEqual(ema.tensors.get('conv1.weight')!.data);
    for (const [file, prefix] of [['parallel.legacy.pth', 'module.'], ['scale.zip.pth', 'Scale.']] as const) {
      const stateDict = stateDictOf((await readTorchCheckpointFile(join(dir, file))).root, 'model', file);
      expect(stateDict.path).toBe('');
      expect(stateDict.strippedPrefixes).toEqual([prefix]);
      expect([...stateDict.tensors.keys()]).toEqual([...model.tensors.keys()]);
    }
    const bare = (await readTorchCheckpointFile(join(dir, 'scale.zip.pth'))).root;
    expect(() => stateDictOf(bare, 'ema_model', 'scale.zip.pth')).toThrow(/no separate EMA teacher/);
  });

  it('lists every tensor of a checkpoint under its dotted path', async () => {
    const authors = allTensors((await readTorchCheckpointFile(join(dir, 'authors.legacy.pth'))).root);
    expect([...authors.keys()].filter((k) => !k.startsWith('model.') && !k.startsWith('ema_model.'))).toEqual(['optimizer.state.0.momentum_buffer']);
    expect(authors.get('ema_model.layer5.bias')!.shape).toEqual([2]);
    const mixed = (await readTorchCheckpointFile(join(dir, 'mixed.zip.pth'))).root;
    expect(allTensors(mixed).get('transposed')!.shape).toEqual([6, 5]);
    expect(() => stateDictOf(mixed, 'model', 'mixed.zip.pth')).toThrow(/holds no "model" state dict/);
  });

  it('says in one sentence why a file does not load', async () => {
    expect(await refusal('truncated.zip.pth')).toMatch(/truncated/);
    expect(await refusal('truncated.legacy.pth')).toMatch(/truncated/);
    expect(await refusal('random.bin')).toMatch(/is not a PyTorch checkpoint/);
    expect(await refusal('foreign.pkl')).toBe('"foreign.pkl" names a Python object "os.system" that a weights file has no reason to contain; it was not loaded.');
    expect(await refusal('foreign.zip.pth')).toMatch(/"os\.system" that a weights file has no reason to contain/);
    expect(await refusal('short_storage.zip.pth')).toMatch(/^"short_storage\.zip\.pth" declares a storage of \d+ bytes where only \d+ are left/);
    expect(await refusal('nodata.zip')).toMatch(/zip archive without data\.pkl/);
    expect(await refusal('missing.pth')).toMatch(/no such file/);
  });

  it('every prefix and a thousand corrupted copies of a checkpoint load or get a sentence, never anything else', () => {
    let seed = 1;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const outcome = (bytes: Uint8Array) => {
      try {
        readTorchCheckpoint(bytes, 'damaged.pth');
        return 'loaded';
      } catch (error) {
        return error instanceof UserError ? 'sentence' : `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    for (const format of ['zip', 'legacy']) {
      const whole = new Uint8Array(readFileSync(join(dir, `authors.${format}.pth`)));
      const surprises = new Set<string>();
      for (let n = 0; n < whole.length; n++) surprises.add(outcome(whole.subarray(0, n)));
      for (let i = 0; i < 1000; i++) {
        const copy = whole.slice();
        copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
        surprises.add(outcome(copy));
      }
      surprises.delete('loaded');
      surprises.delete('sentence');
      expect([...surprises]).toEqual([]);
    }
  });
});
