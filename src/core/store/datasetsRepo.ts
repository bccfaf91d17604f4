// Datasets and images in the project database.
import type { Dataset, DatasetKind, DatasetRole, DepthSource, ImageDetail, ImageFilter, ImageSummary, ImportProblem, Split } from '../../shared/api';
import type { Db } from './db';

/** Where each kind of file lives, relative to the dataset root. null when that part is absent. */
export interface Layout {
  rgbDir: string;
  labelDir: string | null;
  /** The folder of the depth source in use (before the scan: of the first source whose folder exists). */
  depthDir: string | null;
  cameraDir: string | null;
  /** The depth source the import took; absent in layouts saved before sources were recorded. */
  depthSource?: DepthSource | null;
}

/** One scanned image as the import writes it. */
export interface ImageWrite {
  split: Split;
  city: string;
  name: string;
  rgbPath: string;
  labelPath: string | null;
  depthPath: string | null;
  cameraPath: string | null;
  width: number;
  height: number;
  /** Size and mtime of the RGB file: changes when the file does (keys cached thumbnails). */
  rgbStamp: string;
}

/**
 * The source of a dataset imported before sources were recorded: those imports looked only for `_disparity.png`
 * next to camera files in Cityscapes, and for each kind's single folder otherwise.
 */
export function legacyDepthSource(kind: DatasetKind, depthDir: string | null, cameraDir: string | null): DepthSource | null {
  if (!depthDir) return null;
  if (kind === 'synthia') return 'simulator';
  if (kind === 'cityscapes' && cameraDir) return 'sgm';
  return 'mono';
}

interface DatasetRow {
  id: number;
  name: string;
  kind: DatasetKind;
  role: DatasetRole;
  root: string;
  layout: string;
  imported_at: string;
}

interface ImageRow {
  id: number;
  dataset_id: number;
  split: ImageSummary['split'];
  city: string;
  name: string;
  rgb_path: string;
  label_path: string | null;
  depth_path: string | null;
  camera_path: string | null;
  width: number;
  height: number;
  rgb_stamp: string;
  /** Joined in: the correction's human-set pixels (0 without one) and the chosen round's difficulty score. */
  corrected_pixels: number;
  difficulty: number | null;
}

export interface StoredDataset extends Dataset {
  layout: Layout;
}

export interface StoredImage extends ImageDetail {
  cameraPath: string | null;
  rgbStamp: string;
  root: string;
  kind: DatasetKind;
}

const toSummary = (r: ImageRow): ImageSummary => ({
  id: r.id,
  datasetId: r.dataset_id,
  split: r.split,
  city: r.city,
  name: r.name,
  width: r.width,
  height: r.height,
  hasLabels: r.label_path !== null,
  hasDepth: r.depth_path !== null,
  correctedPixels: r.corrected_pixels,
  difficulty: r.difficulty,
});

/** Image rows with what a summary joins in: corrected pixels and the difficulty score of round `@roundId`. */
const IMAGE_SELECT = `SELECT images.*, coalesce(corrections.human_pixels, 0) AS corrected_pixels, round_layers.difficulty_score AS difficulty
  FROM images
  LEFT JOIN corrections ON corrections.image_id = images.id
  LEFT JOIN round_layers ON round_layers.round_id = @roundId AND round_layers.image_id = images.id`;

/** The most recently finished round adapted to `datasetId`, whose difficulty scores listings show by default. */
export function latestDoneRoundId(db: Db, datasetId: number): number | null {
  const row = db
    .prepare("SELECT id FROM rounds WHERE target_dataset_id = ? AND status = 'done' ORDER BY finished_at DESC, id DESC LIMIT 1")
    .get(datasetId) as { id: number } | undefined;
  return row?.id ?? null;
}

export function listDatasets(db: Db): StoredDataset[] {
  const rows = db.prepare('SELECT * FROM datasets ORDER BY id').all() as DatasetRow[];
  const stats = db.prepare(
    `SELECT split, count(*) AS n, sum(label_path IS NOT NULL) AS labels, sum(depth_path IS NOT NULL) AS depth
       FROM images WHERE dataset_id = ? AND missing = 0 GROUP BY split`,
  );
  const cities = db.prepare('SELECT DISTINCT city FROM images WHERE dataset_id = ? AND missing = 0 ORDER BY city');
  const problems = db.prepare('SELECT count(*) AS n FROM import_problems WHERE dataset_id = ?');
  return rows.map((row) => {
    const counts = { train: 0, val: 0, test: 0 };
    let withLabels = 0;
    let withDepth = 0;
    for (const s of stats.all(row.id) as { split: keyof typeof counts; n: number; labels: number; depth: number }[]) {
      counts[s.split] = s.n;
      withLabels += s.labels;
      withDepth += s.depth;
    }
    const layout = JSON.parse(row.layout) as Layout;
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      role: row.role,
      root: row.root,
      layout,
      counts,
      withLabels,
      withDepth,
      depthSource: layout.depthSource !== undefined ? layout.depthSource : withDepth ? legacyDepthSource(row.kind, layout.depthDir, layout.cameraDir) : null,
      cities: (cities.all(row.id) as { city: string }[]).map((c) => c.city),
      problems: (problems.get(row.id) as { n: number }).n,
      importedAt: row.imported_at,
    };
  });
}

export function getDataset(db: Db, id: number): StoredDataset | undefined {
  return listDatasets(db).find((d) => d.id === id);
}

export function listImages(db: Db, filter: ImageFilter): ImageSummary[] {
  const where = ['images.dataset_id = @datasetId', 'images.missing = 0'];
  if (filter.split) where.push('images.split = @split');
  if (filter.city) where.push('images.city = @city');
  if (filter.hasLabels !== undefined) where.push(filter.hasLabels ? 'images.label_path IS NOT NULL' : 'images.label_path IS NULL');
  if (filter.corrected !== undefined) where.push(filter.corrected ? 'corrections.human_pixels > 0' : 'coalesce(corrections.human_pixels, 0) = 0');
  const byName = 'images.split, images.city, images.name';
  const order = filter.sort === 'difficulty' ? `difficulty IS NULL, difficulty DESC, ${byName}` : byName;
  const roundId = filter.roundId ?? latestDoneRoundId(db, filter.datasetId);
  const rows = db
    .prepare(`${IMAGE_SELECT} WHERE ${where.join(' AND ')} ORDER BY ${order}`)
    .all({ datasetId: filter.datasetId, split: filter.split, city: filter.city, roundId }) as ImageRow[];
  return rows.map(toSummary);
}

export function getImage(db: Db, id: number): StoredImage | undefined {
  const datasetId = (db.prepare('SELECT dataset_id FROM images WHERE id = ?').get(id) as { dataset_id: number } | undefined)?.dataset_id;
  if (datasetId === undefined) return undefined;
  const row = db
    .prepare(`SELECT q.*, datasets.root AS root, datasets.kind AS kind FROM (${IMAGE_SELECT} WHERE images.id = @id) AS q JOIN datasets ON datasets.id = q.dataset_id`)
    .get({ id, roundId: latestDoneRoundId(db, datasetId) }) as (ImageRow & { root: string; kind: DatasetKind }) | undefined;
  if (!row) return undefined;
  return {
    ...toSummary(row),
    rgbPath: row.rgb_path,
    labelPath: row.label_path,
    depthPath: row.depth_path,
    cameraPath: row.camera_path,
    rgbStamp: row.rgb_stamp,
    root: row.root,
    kind: row.kind,
  };
}

export function listImportProblems(db: Db, datasetId: number): ImportProblem[] {
  return db.prepare('SELECT file, error FROM import_problems WHERE dataset_id = ? ORDER BY file').all(datasetId) as ImportProblem[];
}

export interface DatasetWrite {
  name: string;
  kind: DatasetKind;
  role: DatasetRole;
  root: string;
  layout: Layout;
  images: ImageWrite[];
  problems: ImportProblem[];
  /** Called after each image row; lets a test kill the process mid-write. */
  afterRow?: (index: number) => void;
}

/**
 * Writes one scan in a single transaction: the dataset row (matched by root, so a second import updates it),
 * every image (matched by dataset and RGB path, so nothing duplicates), files gone since the last import are
 * flagged missing (kept, because later work may refer to them), and the problem list is replaced.
 */
export function saveDataset(db: Db, w: DatasetWrite): number {
  return db.transaction(() => {
    const now = new Date().toISOString();
    const existing = db.prepare('SELECT id FROM datasets WHERE root = ?').get(w.root) as { id: number } | undefined;
    let datasetId: number;
    if (existing) {
      datasetId = existing.id;
      db.prepare('UPDATE datasets SET kind = ?, role = ?, layout = ?, imported_at = ? WHERE id = ?').run(
        w.kind, w.role, JSON.stringify(w.layout), now, datasetId,
      );
    } else {
      datasetId = Number(
        db.prepare('INSERT INTO datasets (name, kind, role, root, layout, imported_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(w.name, w.kind, w.role, w.root, JSON.stringify(w.layout), now).lastInsertRowid,
      );
    }
    db.prepare('UPDATE images SET missing = 1 WHERE dataset_id = ?').run(datasetId);
    const upsert = db.prepare(
      `INSERT INTO images (dataset_id, split, city, name, rgb_path, label_path, depth_path, camera_path, width, height, rgb_stamp, missing)
       VALUES (@datasetId, @split, @city, @name, @rgbPath, @labelPath, @depthPath, @cameraPath, @width, @height, @rgbStamp, 0)
       ON CONFLICT (dataset_id, rgb_path) DO UPDATE SET
         split = excluded.split, city = excluded.city, name = excluded.name, label_path = excluded.label_path,
         depth_path = excluded.depth_path, camera_path = excluded.camera_path, width = excluded.width,
         height = excluded.height, rgb_stamp = excluded.rgb_stamp, missing = 0`,
    );
    w.images.forEach((image, index) => {
      upsert.run({ datasetId, ...image });
      w.afterRow?.(index);
    });
    db.prepare('DELETE FROM import_problems WHERE dataset_id = ?').run(datasetId);
    const addProblem = db.prepare('INSERT INTO import_problems (dataset_id, file, error) VALUES (?, ?, ?)');
    for (const p of w.problems) addProblem.run(datasetId, p.file, p.error);
    return datasetId;
  }).immediate();
}
