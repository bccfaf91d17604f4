import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zeroPng } from '../testFixtures/hostilePngs';
import { decodeTrainIds, readTrainIds } from './labelsIO';
import { INLINE_DECODE_PIXELS, readTrainIdsOffThread } from './labelsOffThread';

let dir: string;
let huge: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corda-labels-'));
  huge = await zeroPng(16000, 16000);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading label PNGs', () => {
  it('refuses a small file declaring 16000x16000 from its header, at once, without decoding it', async () => {
    expect(huge.length).toBeLessThan(300_000);
    const file = join(dir, 'huge.png');
    writeFileSync(file, huge);
    const started = performance.now();
    await expect(readTrainIds(file, 'cityscapes')).rejects.toThrow(/huge\.png declares 16000x16000 pixels, more than the 16,777,216 the workbench reads/);
    await expect(readTrainIdsOffThread(file, 'cityscapes')).rejects.toThrow(/declares 16000x16000/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('says in a sentence when a file is not a PNG, truncated or damaged', () => {
    const good = encode({ width: 8, height: 4, channels: 1, depth: 8, data: new Uint8Array(32).fill(7) });
    expect(() => decodeTrainIds(new Uint8Array([1, 2, 3]), 'cityscapes')).toThrow(/The label file cannot be read: not a PNG file\./);
    expect(() => decodeTrainIds(good.slice(0, good.length - 20), 'cityscapes')).toThrow(/^The label file cannot be decoded|holds fewer pixels/);
    const damaged = good.slice();
    damaged[damaged.length - 20] = damaged[damaged.length - 20]! ^ 0xff;
    expect(() => decodeTrainIds(damaged, 'cityscapes')).toThrow(/The label file/);
  });

  it('reads 16-bit, palette and packed 1/2/4-bit label maps', () => {
    const ids16 = encode({ width: 4, height: 1, channels: 1, depth: 16, data: Uint16Array.from([7, 8, 26, 300]) });
    expect(Array.from(decodeTrainIds(ids16, 'cityscapes').data)).toEqual([0, 1, 13, 255]);
    const palette = Array.from({ length: 16 }, (_, i) => [i, i, i] as [number, number, number]);
    // 4-bit palette indices 7, 8, 7 (road, sidewalk, road) in one row of three: packed high nibble first.
    const packed4 = encode({ width: 3, height: 1, channels: 1, depth: 4, data: Uint8Array.from([0x78, 0x70]), palette });
    expect(Array.from(decodeTrainIds(packed4, 'gta5').data)).toEqual([0, 1, 0]);
    // 1-bit grey: ids 0 and 1 (both "unlabeled" → ignore) across a row of 10 crossing a byte boundary.
    const packed1 = encode({ width: 10, height: 2, channels: 1, depth: 1, data: Uint8Array.from([0xaa, 0x80, 0x55, 0x40]) });
    expect(decodeTrainIds(packed1, 'cityscapes').data.length).toBe(20);
  });

  it('decodes a large map off the calling thread, with the same result as in place', async () => {
    const width = 1024;
    const height = Math.ceil((INLINE_DECODE_PIXELS + 1) / width);
    const data = new Uint8Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = [7, 8, 11, 26][i % 4]!;
    const file = join(dir, 'large.png');
    writeFileSync(file, encode({ width, height, channels: 1, depth: 8, data }));
    const viaWorker = await readTrainIdsOffThread(file, 'cityscapes');
    const inPlace = await readTrainIds(file, 'cityscapes');
    expect(viaWorker.width).toBe(width);
    expect(Buffer.from(viaWorker.data).equals(Buffer.from(inPlace.data))).toBe(true);
  });
});
