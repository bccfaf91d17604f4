// PNG files that are valid but unkind, for tests: a small file that declares a huge image.
import { once } from 'node:events';
import { crc32, createDeflate } from 'node:zlib';

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/**
 * A well-formed 8-bit grey PNG of `width` x `height` zeros. The rows are deflated as a stream from one reused
 * block, so a 16000x16000 file (about 250 KB) is made without holding its 256 MB of pixels.
 */
export async function zeroPng(width: number, height: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  const rowsPerBlock = Math.max(1, Math.floor((4 << 20) / (width + 1)));
  const block = Buffer.alloc(rowsPerBlock * (width + 1)); // each row: filter byte 0, then zero samples
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (part: Buffer) => parts.push(part));
  const ended = once(deflate, 'end');
  let rows = 0;
  for (; rows + rowsPerBlock <= height; rows += rowsPerBlock) {
    if (!deflate.write(block)) await once(deflate, 'drain');
  }
  deflate.end(block.subarray(0, (height - rows) * (width + 1)));
  await ended;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
