// Exports are written into a hidden sibling of the output folder and renamed into place at the end, so a
// full disk, an unwritable folder, a cancel or a crash never leaves a half-written export under the user's name.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../../../shared/api';

export interface StagingFolder {
  /** The hidden folder being written, beside the output folder. */
  readonly dir: string;
  /** Writes `data` at `relativePath` (forward slashes) inside the staging folder, creating folders on the way.
   *  Failures are explained (explainWriteError); the caller discards the folder once no write is in flight. */
  write(relativePath: string, data: Buffer | string): Promise<void>;
  /** Moves the finished export to the output folder; on failure the staging folder is still there to discard. */
  commit(): Promise<void>;
  /** Removes everything written so far, and the parent folders this export created. */
  discard(): Promise<void>;
}

/** Folders an export must never write into (the datasets' own folders). */
export interface ProtectedFolder {
  root: string;
  name: string;
}

function realpathOfNearest(path: string): string {
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  return join(realpathSync(existing), relative(existing, path));
}

const isInside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/** Resolves `outDir` and refuses one that holds files, is a file, or lies inside a dataset folder. */
export function checkOutDir(outDir: string, protectedFolders: ProtectedFolder[] = []): string {
  const path = resolve(outDir);
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new UserError(`${path} is a file; pick a new or empty folder for the export.`);
    if (readdirSync(path).length > 0) {
      throw new UserError(`${path} already holds files; pick a new or empty folder so that nothing there is overwritten.`);
    }
  }
  const real = realpathOfNearest(path);
  for (const folder of protectedFolders) {
    if (existsSync(folder.root) && isInside(real, realpathSync(folder.root))) {
      throw new UserError(`${path} is inside the folder of dataset "${folder.name}", which the workbench never writes to; pick a folder outside it.`);
    }
  }
  return path;
}

/** Most file systems (ext4, APFS, NTFS) allow names of at most 255 bytes (UTF-8 bytes or UTF-16 units). */
export const MAX_NAME_BYTES = 255;

/** One sentence for the file-system errors a person can act on; anything else is passed on unchanged. */
export function explainWriteError(error: unknown, outDir: string): unknown {
  switch ((error as NodeJS.ErrnoException | null)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new UserError(`The disk holding ${dirname(outDir)} is full; free some space or pick a folder on another disk, then export again.`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UserError(`Cannot write into ${dirname(outDir)}; pick a folder you are allowed to write to.`);
    case 'ENOTDIR':
      return new UserError(`Part of ${outDir} is a file, not a folder; pick another output folder.`);
    case 'ENAMETOOLONG':
      return new UserError(`The output folder's name or path is too long for the file system (the export is first written beside it as .${basename(outDir).slice(0, 20)}….partial-…); pick a shorter one.`);
    default:
      return error;
  }
}

/**
 * Test hook: `CORDA_FAULT_EXPORT=CODE@N` makes the N-th file write fail with errno CODE (N = 0: creating the
 * staging folder), e.g. `ENOSPC@3` for a disk that fills up after two files.
 */
function faultInjector(): (step: number) => void {
  const spec = process.env.CORDA_FAULT_EXPORT?.match(/^([A-Z]+)@(\d+)$/);
  if (!spec) return () => undefined;
  return (step) => {
    if (step === Number(spec[2])) throw Object.assign(new Error(`${spec[1]}: injected fault`), { code: spec[1] });
  };
}

/** Creates the staging folder beside `outDir` (a path checked by checkOutDir); errors are explained. */
export async function openStagingFolder(outDir: string): Promise<StagingFolder> {
  const fault = faultInjector();
  const parent = dirname(outDir);
  let createdParent: string | undefined;
  let dir: string;
  try {
    createdParent = await mkdir(parent, { recursive: true });
    fault(0);
    dir = await mkdtemp(join(parent, `.${basename(outDir)}.partial-`));
  } catch (error) {
    if (createdParent) await rm(createdParent, { recursive: true, force: true });
    throw explainWriteError(error, outDir);
  }
  const made = new Set<string>();
  let writes = 0;
  const discard = async () => {
    await rm(dir, { recursive: true, force: true });
    if (createdParent) await rm(createdParent, { recursive: true, force: true });
  };
  return {
    dir,
    async write(relativePath, data) {
      const path = join(dir, ...relativePath.split('/'));
      try {
        const folder = dirname(path);
        if (!made.has(folder)) {
          await mkdir(folder, { recursive: true });
          made.add(folder);
        }
        fault(++writes);
        await writeFile(path, data);
      } catch (error) {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENAMETOOLONG') {
          throw new UserError(`Cannot write ${relativePath} into ${outDir}: the file system refuses a name or path that long; pick a shorter output folder or rename the image, then export again.`);
        }
        throw explainWriteError(error, outDir);
      }
    },
    async commit() {
      try {
        // An empty output folder may exist already; rename cannot replace a folder on every OS.
        if (existsSync(outDir)) await rmdir(outDir);
        await rename(dir, outDir);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw new UserError(`${outDir} was filled by something else during the export; pick a new or empty folder and export again.`);
        }
        throw explainWriteError(error, outDir);
      }
    },
    discard,
  };
}
