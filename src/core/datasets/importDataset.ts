// `corda import` and the UI's "Open dataset folder…": detect, scan (headers only), then write everything in
// one transaction so that a process killed mid-import leaves the project as it was.
import { realpathSync } from 'node:fs';
import { basename, resolve, sep } from 'node:path';
import { UserError, type DatasetRole, type ImportResult } from '../../shared/api';
import type { Db } from '../store/db';
import { listDatasets, saveDataset } from '../store/datasetsRepo';
import { detectDataset, EXPECTED_LAYOUTS } from './detect';
import { scanDataset, toStoredPath } from './scan';

export interface ImportOptions {
  role?: DatasetRole;
  projectDir: string;
  signal?: AbortSignal;
  onProgress?: (phase: string, done: number, total: number) => void;
}

const DEFAULT_ROLE = { cityscapes: 'target', gta5: 'source', synthia: 'source' } as const;

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

export async function importDataset(db: Db, folder: string, options: ImportOptions): Promise<ImportResult> {
  let root: string;
  try {
    root = realpathSync(resolve(folder));
  } catch {
    throw new UserError(`${resolve(folder)} does not exist. Pick ${EXPECTED_LAYOUTS}.`);
  }
  const detected = detectDataset(root);
  if (isInside(realpathSync(options.projectDir), detected.root)) {
    throw new UserError(`The project folder is inside ${detected.root}; keep projects outside dataset folders, which the workbench never writes to.`);
  }
  const role = options.role ?? DEFAULT_ROLE[detected.kind];
  const scan = await scanDataset(detected, {
    signal: options.signal,
    onProgress: (done, total) => options.onProgress?.('scanning', done, total),
  });
  if (scan.images.length === 0) {
    throw new UserError(`${detected.root} looks like a ${detected.kind} folder but holds no readable images (${scan.problems.length} problem(s)). Check that the images were fully unpacked.`);
  }
  options.signal?.throwIfAborted();
  options.onProgress?.('saving', 0, scan.images.length);
  const killAfter = Number(process.env.CORDA_FAULT_KILL_IMPORT_AFTER_ROWS ?? NaN);
  const datasetId = saveDataset(db, {
    name: basename(detected.root),
    kind: detected.kind,
    role,
    root: detected.root,
    layout: detected.layout,
    images: scan.images.map((i) => ({
      ...i,
      rgbPath: toStoredPath(i.rgbPath),
      labelPath: i.labelPath && toStoredPath(i.labelPath),
      depthPath: i.depthPath && toStoredPath(i.depthPath),
      cameraPath: i.cameraPath && toStoredPath(i.cameraPath),
    })),
    problems: scan.problems.map((p) => ({ ...p, file: toStoredPath(p.file) })),
    // Fault injection for the crash-safety test: the process dies inside the transaction.
    afterRow: Number.isFinite(killAfter) ? (i) => i + 1 >= killAfter && process.kill(process.pid, 'SIGKILL') : undefined,
  });
  options.onProgress?.('saving', scan.images.length, scan.images.length);
  const saved = listDatasets(db).find((d) => d.id === datasetId)!;
  return {
    datasetId,
    kind: saved.kind,
    role: saved.role,
    counts: saved.counts,
    withLabels: saved.withLabels,
    withDepth: saved.withDepth,
    problems: scan.problems,
  };
}
