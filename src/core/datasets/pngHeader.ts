// Reads what an import needs from a PNG without decoding it: the IHDR fields from the first 33 bytes and the
// IEND marker from the last 12 (a missing IEND means the file was cut short).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  channels: number;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export class PngError extends Error {}

export function parsePngHeader(head: Buffer): PngInfo {
  if (head.length < 33 || !head.subarray(0, 8).equals(SIGNATURE)) throw new PngError('not a PNG file');
  if (head.toString('latin1', 12, 16) !== 'IHDR') throw new PngError('corrupt PNG: the header chunk is missing');
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  const bitDepth = head[24]!;
  const colorType = head[25]!;
  const channels = CHANNELS[colorType];
  if (!width || !height || channels === undefined || ![1, 2, 4, 8, 16].includes(bitDepth)) {
    throw new PngError('corrupt PNG: invalid header fields');
  }
  return { width, height, bitDepth, colorType, channels };
}

/**
 * Opens without blocking (a FIFO named like an image would otherwise wait for a writer forever, holding a libuv
 * thread) and refuses anything that is not a regular file: folders, FIFOs, sockets, devices.
 */
export async function readPngInfo(path: string): Promise<PngInfo> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new PngError(`skipped: not a regular file (${fileKind(stat)})`);
    const { size } = stat;
    const head = Buffer.alloc(33);
    const { bytesRead } = await handle.read(head, 0, 33, 0);
    const info = parsePngHeader(head.subarray(0, bytesRead));
    const tail = Buffer.alloc(12);
    if (size < 33 + 12) throw new PngError('truncated PNG: the file ends before its image data');
    await handle.read(tail, 0, 12, size - 12);
    if (!tail.equals(IEND)) throw new PngError('truncated PNG: the end marker is missing');
    return info;
  } finally {
    await handle.close();
  }
}

/** What a non-regular file is, for a problem line. */
export function fileKind(stat: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'a special file';
}
