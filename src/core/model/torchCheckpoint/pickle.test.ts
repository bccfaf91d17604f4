// The restricted unpickler and tensor materialisation on hand-made bytes (no Python needed).
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../shared/api';
import { torchHooks } from './globals';
import { readTorchCheckpoint } from './read';
import { allTensors } from './stateDict';
import { unpickle } from './pickle';
import { materialise, type PendingTensor } from './tensors';
import type { TorchTensor } from './values';

const hex = (text: string) => Uint8Array.from(text.match(/../g)!, (h) => parseInt(h, 16));
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const load = (bytes: Uint8Array) => unpickle(bytes, 0, torchHooks('test.pth', new Map()), 'test.pth').value;
const values = (t: TorchTensor): (number | bigint)[] => [...(t.data as Iterable<number | bigint>)];
const sentence = (bytes: Uint8Array): string => {
  try {
    load(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('loaded');
};

describe('restricted unpickler', () => {
  it('reads protocol 0 text opcodes', () => {
    const value = load(latin1('(dp0\nVa\np1\n(lp2\nI1\naF2.5\naNaI01\nasV\xfc\\u2713\np3\nVx\np4\ns.'));
    expect(value).toEqual(new Map<string, unknown>([['a', [1, 2.5, null, true]], ['ü✓', 'x']]));
  });

  it('reads Python 2 OrderedDicts, strings and long integers', () => {
    expect(load(hex('800263636f6c6c656374696f6e730a4f726465726564446963740a71005d7101285d71022858010000006b71034b05655d71042858010000006a71055d7106284b014b026565658571075271082e')))
      .toEqual(new Map<string, unknown>([['k', 5], ['j', [1, 2]]]));
    expect(load(latin1('\x80\x02U\x03abcq\x00.'))).toBe('abc');
    expect(load(hex('80028a090000000000000000c02e'))).toBe(-(2n ** 70n));
  });

  it('reads protocol 4 frames, memoised tuples and frozensets', () => {
    expect(load(hex('80049516000000000000007d94284b014b014b024b0387944b02284b049194752e'))).toEqual(new Map<number, unknown>([[1, [1, 2, 3]], [2, [4]]]));
  });

  it('rebuilds bytes from protocol 2 _codecs.encode', () => {
    expect(load(latin1('\x80\x02c_codecs\nencode\nq\x00X\x03\x00\x00\x00\x00\xc3\xbfq\x01X\x06\x00\x00\x00latin1q\x02\x86q\x03Rq\x04.')))
      .toEqual(new Uint8Array([0, 255]));
  });

  it('reads NumPy numbers in either byte order and refuses NumPy arrays', () => {
    const scalar = (order: string, value: string) =>
      latin1(`\x80\x02cnumpy.core.multiarray\nscalar\nq\x00cnumpy\ndtype\nq\x01X\x02\x00\x00\x00f8q\x02\x89\x88\x87q\x03Rq\x04(K\x03X\x01\x00\x00\x00${order}q\x05NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x06bc_codecs\nencode\nq\x07X\t\x00\x00\x00${value}q\x08X\x06\x00\x00\x00latin1q\t\x86q\nRq\x0b\x86q\x0cRq\r.`);
    expect(load(scalar('<', '\x00\x00\x00\x00\x00\x00\xc3\xb4?'))).toBe(1.25);
    expect(load(scalar('>', '?\xc3\xb4\x00\x00\x00\x00\x00\x00'))).toBe(1.25);
    expect(sentence(latin1('\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85'))).toMatch(/"numpy\.core\.multiarray\._reconstruct" that a weights file has no reason to contain/);
  });

  it('refuses any other global by name, before calling anything', () => {
    expect(sentence(latin1('\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.'))).toBe('"test.pth" names a Python object "builtins.eval" that a weights file has no reason to contain; it was not loaded.');
    expect(sentence(latin1('\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93.'))).toMatch(/"os\.system" that a weights file has no reason to contain/);
    expect(sentence(latin1('\x80\x02ctorch.nn.modules.conv\nConv2d\n.'))).toMatch(/holds a whole pickled model \("torch\.nn\.modules\.conv\.Conv2d"\) rather than its weights/);
  });

  it('says what is wrong with bytes that are not a whole pickle', () => {
    expect(sentence(latin1('\x80\x02X\x10\x00\x00\x00abc'))).toMatch(/is truncated/);
    expect(sentence(latin1('\x80\x02.'))).toMatch(/its pickle data is malformed near byte 3/);
    expect(sentence(latin1('\x80\x02\xff'))).toBe('"test.pth" is not a PyTorch checkpoint (byte 2 holds pickle opcode 0xff, which no checkpoint uses), so it was not loaded.');
    expect(sentence(latin1('\x00abc'))).toMatch(/it does not start with pickle data/);
  });
});

describe('hostile nesting', () => {
  it('reads a legacy file nested far deeper than the call stack goes', () => {
    const depth = 200_000;
    const magic = new Uint8Array([0x80, 0x02, 0x8a, 0x0a, ...[0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19], 0x2e]);
    const file = new Uint8Array([
      ...magic,
      ...latin1('\x80\x02M\xe9\x03.'),
      ...latin1('\x80\x02}.'),
      ...latin1('\x80\x02'), ...new Uint8Array(depth).fill(0x5d), ...new Uint8Array(depth - 1).fill(0x61), 0x2e,
      ...latin1('\x80\x02].'),
    ]);
    const { format, root } = readTorchCheckpoint(file, 'deep.pth');
    expect(format).toBe('legacy');
    expect(allTensors(root).size).toBe(0);
  });
});

describe('tensor materialisation', () => {
  const pending = (dtype: PendingTensor['dtype'], shape: number[], stride: number[], offset = 0): PendingTensor => ({
    kind: 'pending-tensor', storage: { kind: 'storage', key: '0', dtype, numel: 0, viewOffset: 0 }, dtype, offset, shape, stride, parameter: false,
  });

  it('converts half and bfloat16 exactly, special values included', () => {
    const half = new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001, 0x7bff, 0x8000]);
    expect(values(materialise(pending('float16', [6], [1]), new Uint8Array(half.buffer), 't'))).toEqual([1, -2, Infinity, 2 ** -24, 65504, -0]);
    const bf16 = new Uint16Array([0x3f80, 0xc0a0, 0x0001]);
    expect(values(materialise(pending('bfloat16', [3], [1]), new Uint8Array(bf16.buffer), 't'))).toEqual([1, -5, 2 ** -133]);
  });

  it('applies strides and the storage offset', () => {
    const storage = new Float32Array([9, 0, 1, 2, 3, 4, 5]);
    // The transpose of [[0, 1, 2], [3, 4, 5]] starting one element in.
    const t = materialise(pending('float32', [3, 2], [1, 3], 1), new Uint8Array(storage.buffer), 't');
    expect(values(t)).toEqual([0, 3, 1, 4, 2, 5]);
    const longs = new BigInt64Array([5n, -(2n ** 62n), 7n]);
    expect(values(materialise(pending('int64', [2], [2]), new Uint8Array(longs.buffer), 't'))).toEqual([5n, 7n]);
  });

  it('refuses a tensor too large to hold', () => {
    expect(() => materialise(pending('float32', [2 ** 20, 2 ** 20], [0, 0]), new Uint8Array(4), 'w.pth')).toThrow(/more values than a checkpoint this reader can hold/);
  });

  it('refuses a tensor that reaches past its storage', () => {
    expect(() => materialise(pending('float32', [2, 3], [3, 1], 1), new Uint8Array(24), 'w.pth')).toThrow(
      '"w.pth" declares a tensor of shape [2, 3] that reaches past the end of its storage; the file is damaged, so it was not loaded.',
    );
  });
});
