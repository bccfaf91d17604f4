// The 128-byte header of a MATLAB v5 MAT-file (MATLAB's -v6 and -v7, scipy.io.savemat): enough to tell whether a
// file can be read by matV5.ts and in which byte order, without reading the rest (the import's quick check).
import { open } from 'node:fs/promises';
import { UserError } from '../../shared/api';

export const MAT_HEADER_BYTES = 128;

/** Byte order of a v5 MAT-file, or a UserError saying in one sentence why the file is not one. */
export function parseMatHeader(bytes: Uint8Array, file: string): { littleEndian: boolean } {
  if (bytes.length < MAT_HEADER_BYTES) throw new UserError(`${file} is too short to be a MATLAB MAT-file.`);
  const text = String.fromCharCode(...bytes.subarray(0, 10));
  if (!text.startsWith('MATLAB')) {
    throw new UserError(`${file} is not a MATLAB v5 MAT-file (no "MATLAB" header; MATLAB v4 files are not read): save it with scipy.io.savemat or MATLAB's save -v7.`);
  }
  const indicator = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (indicator !== 'IM' && indicator !== 'MI') throw new UserError(`${file} has a MATLAB header without a valid byte-order mark, so it is damaged or not a v5 MAT-file.`);
  const littleEndian = indicator === 'IM';
  const version = littleEndian ? bytes[124]! | (bytes[125]! << 8) : (bytes[124]! << 8) | bytes[125]!;
  if (version === 0x0200) {
    throw new UserError(`${file} is a MATLAB 7.3 (HDF5) file, which the workbench does not read: save it again with MATLAB's save -v7 or with scipy.io.savemat.`);
  }
  if (version !== 0x0100) throw new UserError(`${file} is a MAT-file of unknown version 0x${version.toString(16)}; only version 5 files are read.`);
  return { littleEndian };
}

/** Reads only the header of `path`: throws what parseMatHeader throws, naming the file `label`. */
export async function readMatHeader(path: string, label = path): Promise<{ littleEndian: boolean }> {
  const handle = await open(path, 'r');
  try {
    const bytes = new Uint8Array(MAT_HEADER_BYTES);
    const { bytesRead } = await handle.read(bytes, 0, MAT_HEADER_BYTES, 0);
    return parseMatHeader(bytes.subarray(0, bytesRead), label);
  } finally {
    await handle.close();
  }
}
