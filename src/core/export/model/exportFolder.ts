// Writes an export's files into a temporary sibling of the target folder and renames it into place, so that a
// full disk, a folder without permission, a cancel or a crash never leaves a half-written export behind. File
// system errors become one sentence that says what to do. CORDA_FAULT_EXPORT_ENOSPC_AFTER_BYTES=N makes the
// write fail like a full disk once N bytes are written (for tests).
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../../../shared/api';

export interface ExportFile {
  /** File name inside the export folder. */
  name: string;
  data: Uint8Array;
  kind: 'graph' | 'weights' | 'card';
}

const CHUNK_BYTES = 4 * 1024 * 1024;

const megabytes = (bytes: number) => `${Math.max(0.1, bytes / 1024 / 1024).toFixed(1)} MB`;

/** Refuses, before any work, a target that exists and is not an empty folder, or a parent that cannot be written. */
export function checkExportTarget(outDir: string): string {
  const target = resolve(outDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UserError(`${target} is a file; choose a new folder for the export.`);
    if (readdirSync(target).length > 0) throw new UserError(`The folder ${target} is not empty; choose a new or empty folder so that nothing in it is overwritten.`);
  }
  let existing = dirname(target);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) throw new UserError(`${existing} is a file, so the export cannot go below it; choose another folder.`);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw new UserError(`Cannot write to ${existing} (permission denied); choose a folder you can write to.`);
  }
  return target;
}

function fsErrorMessage(error: unknown, target: string, totalBytes: number): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const where = dirname(target);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new UserError(`The disk holding ${where} is full (the export needs about ${megabytes(totalBytes)}); free some space or choose another disk, then export again.`);
  }
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`Cannot write to ${where} (permission denied); choose a folder you can write to.`);
  if (code === 'EROFS') return new UserError(`Cannot write to ${where} (the file system is read-only); choose a folder you can write to.`);
  if (code === 'ENOTEMPTY' || code === 'EEXIST') return new UserError(`The folder ${target} was filled while the export ran; choose a new or empty folder.`);
  return error as Error;
}

function faultAfterBytes(): number {
  const value = Number(process.env.CORDA_FAULT_EXPORT_ENOSPC_AFTER_BYTES ?? NaN);
  return Number.isFinite(value) ? value : Infinity;
}

export interface WriteOptions {
  signal?: AbortSignal;
  /** After every chunk: the file being written and the bytes written of all files. */
  onProgress?: (file: ExportFile, doneBytes: number, totalBytes: number) => void;
}

/** Writes `files` as the folder `target` (checked by checkExportTarget); all or nothing. */
export async function writeExportFolder(target: string, files: ExportFile[], options: WriteOptions = {}): Promise<void> {
  const totalBytes = files.reduce((n, f) => n + f.data.byteLength, 0);
  const parent = dirname(target);
  const temporary = join(parent, `.${basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  let firstCreated: string | undefined;
  let done = 0;
  const failAfter = faultAfterBytes();
  try {
    firstCreated = mkdirSync(parent, { recursive: true });
    mkdirSync(temporary);
    for (const file of files) {
      const handle = await open(join(temporary, file.name), 'wx');
      try {
        for (let offset = 0; offset < file.data.byteLength; offset += CHUNK_BYTES) {
          options.signal?.throwIfAborted();
          let chunk = file.data.subarray(offset, offset + CHUNK_BYTES);
          const injected = done + chunk.byteLength > failAfter;
          if (injected) chunk = chunk.subarray(0, Math.max(0, failAfter - done));
          for (let written = 0; written < chunk.byteLength; ) written += (await handle.write(chunk, written)).bytesWritten;
          done += chunk.byteLength;
          if (injected) throw Object.assign(new Error('ENOSPC: no space left on device, write (injected)'), { code: 'ENOSPC' });
          options.onProgress?.(file, done, totalBytes);
        }
      } finally {
        await handle.close();
      }
    }
    if (existsSync(target)) rmdirSync(target); // an empty folder (checked before); fails if it filled meanwhile
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    if (firstCreated) removeEmptyFolders(parent, firstCreated);
    throw fsErrorMessage(error, target, totalBytes);
  }
}

/** Removes the folders this export created (from `deepest` up to `top`) while they are empty. */
function removeEmptyFolders(deepest: string, top: string): void {
  if (relative(top, deepest).startsWith('..')) return;
  for (let dir = deepest; dir === top || dir.startsWith(top + sep); dir = dirname(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
    if (dir === top) return;
  }
}
