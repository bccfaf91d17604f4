// PNG writing for the demo data: sharp for 8-bit RGB images, fast-png for label maps and 16-bit data.
// Every file is written atomically (temporary name, then rename) so a reader never sees half a file.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encode } from 'fast-png';
import sharp from 'sharp';

let tmpCounter = 0;

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${tmpCounter++}`;
  try {
    try {
      await writeFile(tmp, data);
    } catch (err) {
      // Create the folder only when it is missing: one mkdir per folder, not per file.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, data);
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function writeRgbPng(path: string, rgb: Uint8Array, width: number, height: number): Promise<void> {
  const png = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
  await writeFileAtomic(path, png);
}

/** Single-channel 8-bit (labels) or 16-bit (disparity, depth) PNG. */
export async function writeGrayPng(path: string, data: Uint8Array | Uint16Array, width: number, height: number): Promise<void> {
  const depth = data instanceof Uint16Array ? 16 : 8;
  await writeFileAtomic(path, encode({ width, height, data, depth, channels: 1 }));
}

/** Three-channel 16-bit PNG (SYNTHIA's label files). */
export async function writeRgb16Png(path: string, data: Uint16Array, width: number, height: number): Promise<void> {
  await writeFileAtomic(path, encode({ width, height, data, depth: 16, channels: 3 }));
}
