// `corda import` and the UI's "Open dataset folder…": detect, scan (headers only), then write everything in
// one transaction so that a process killed mid-import leaves the project as it was.
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';
import { UserError, type DatasetRole, type DepthChoice, type ImportResult } from '../../shared/api';
import { DB_FILE, type Db } from '../store/db';
import { betterSqliteOptions } from '../store/nativeBinding';
import { listDatasets, saveDataset } from '../store/datasetsRepo';
import { detectDataset, EXPECTED_LAYOUTS } from './detect';
import { scanDataset, toStoredPath } from './scan';

export interface ImportOptions {
  role?: DatasetRole;
  /** The depth source to take where the folder holds several (default: the reference's choice), or none. */
  depth?: DepthChoice;
  projectDir: string;
  signal?: AbortSignal;
  onProgress?: (phase: string, done: number, total: number) => void;
}

const DEFAULT_ROLE = { cityscapes: 'target', gta5: 'source', synthia: 'source' } as const;

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest (a project not created yet). */
function realpathOfNearest(path: string): string {
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  return join(realpathSync(existing), relative(existing, path));
}

function resolveDatasetFolder(folder: string): string {
  try {
    return realpathSync(resolve(folder));
  } catch {
    throw new UserError(`${resolve(folder)} does not exist. Pick ${EXPECTED_LAYOUTS}.`);
  }
}

function refuseInside(project: string, roots: Iterable<string>): void {
  for (const root of roots) {
    if (isInside(project, root)) {
      throw new UserError(`The project folder ${project} is inside the dataset folder ${root}; keep projects outside dataset folders, which the workbench never writes to.`);
    }
  }
}

/** Dataset roots registered in an existing project, read without writing anything; [] when there is none to read. */
function registeredRoots(project: string): string[] {
  const file = join(project, DB_FILE);
  if (!existsSync(file)) return [];
  try {
    const db = new Database(file, { ...betterSqliteOptions(), readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT root FROM datasets').all() as { root: string }[]).map((r) => r.root);
    } finally {
      db.close();
    }
  } catch {
    return []; // not a project (yet), or damaged: opening it says so
  }
}

/**
 * Refuses, before the project is opened or created, an import whose project folder lies inside the dataset
 * folder (or inside a dataset the project already holds): the user's dataset folders are never written to.
 */
export function checkProjectOutsideDatasets(projectDir: string, folder: string): void {
  const project = realpathOfNearest(resolve(projectDir));
  const root = resolveDatasetFolder(folder);
  const detected = detectDataset(root);
  refuseInside(project, [root, detected.root, ...registeredRoots(project)]);
}

export async function importDataset(db: Db, folder: string, options: ImportOptions): Promise<ImportResult> {
  const root = resolveDatasetFolder(folder);
  const detected = detectDataset(root);
  const project = realpathSync(options.projectDir);
  refuseInside(project, [root, detected.root, ...listDatasets(db).map((d) => d.root)]);
  const role = options.role ?? DEFAULT_ROLE[detected.kind];
  const scan = await scanDataset(detected, {
    signal: options.signal,
    depth: options.depth,
    onProgress: (done, total) => options.onProgress?.('scanning', done, total),
  });
  const depthDir = detected.depthOptions.find((o) => o.source === scan.depthSource)?.dir ?? null;
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
    layout: { ...detected.layout, depthDir, depthSource: scan.depthSource },
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
    depthSource: scan.depthSource,
    problems: scan.problems,
  };
}
