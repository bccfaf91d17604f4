// Label corrections in the project database: one row per corrected image holding the full label map and the
// mask of human-set pixels (compressed here, plain everywhere else), and the image's stroke log. What a stroke,
// an undo or the budget means lives in corrections/; this module only reads and writes the rows.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { StrokeTool } from '../../shared/api';
import type { LabelPlanes } from '../../shared/labelDelta';
import type { Db } from './db';

/** An image's correction row without its planes. */
export interface CorrectionRecord {
  imageId: number;
  baseRoundId: number | null;
  width: number;
  height: number;
  humanPixels: number;
  /** Position on the undo line: strokes 1..version are applied. */
  version: number;
  /** Counts every change (stroke, undo, redo), so a window that missed one is recognised. */
  revision: number;
  secondsSpent: number;
  updatedAt: string;
}

export interface CorrectionPlanes extends LabelPlanes {
  width: number;
  height: number;
}

/** A correction row to insert or replace; `secondsAdded` is added to the time already spent. */
export interface CorrectionWrite extends Omit<CorrectionRecord, 'secondsSpent'>, LabelPlanes {
  secondsAdded: number;
}

export interface StoredStroke {
  id: number;
  seq: number;
  /** The stroke's delta and its inverse, as encoded by shared/labelDelta.ts. */
  forward: Uint8Array;
  backward: Uint8Array;
}

export interface StrokeRecordWrite {
  imageId: number;
  seq: number;
  tool: StrokeTool;
  classId: number | null;
  forward: Uint8Array;
  backward: Uint8Array;
  ms: number;
  createdAt: string;
}

/** Pixel counts behind the correction budget, for the training split and the others. */
export interface BudgetCounts {
  images: number;
  totalPixels: number;
  correctedPixels: number;
  correctedImages: number;
  otherSplitPixels: number;
}

// Level 1: label maps are long runs, so the fastest level already compresses them well and a stroke's save
// stays a few milliseconds on a 2048x1024 image.
const pack = (bytes: Uint8Array): Buffer => deflateRawSync(bytes, { level: 1 });

function unpack(blob: Buffer, length?: number): Uint8Array {
  const bytes = inflateRawSync(blob);
  if (length !== undefined && bytes.length !== length) throw new Error(`stored correction has ${bytes.length} bytes, expected ${length}`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function getCorrectionRecord(db: Db, imageId: number): CorrectionRecord | undefined {
  return db
    .prepare(
      `SELECT image_id AS imageId, base_round_id AS baseRoundId, width, height, human_pixels AS humanPixels, version, revision,
              seconds_spent AS secondsSpent, updated_at AS updatedAt
         FROM corrections WHERE image_id = ?`,
    )
    .get(imageId) as CorrectionRecord | undefined;
}

/** The stored label map and human mask at the image's own resolution, or null when the image has no correction. */
export function readCorrection(db: Db, imageId: number): CorrectionPlanes | null {
  const row = db.prepare('SELECT width, height, labels, human FROM corrections WHERE image_id = ?').get(imageId) as
    | { width: number; height: number; labels: Buffer; human: Buffer }
    | undefined;
  if (!row) return null;
  const n = row.width * row.height;
  return { width: row.width, height: row.height, labels: unpack(row.labels, n), human: unpack(row.human, n) };
}

/** The mask of human-set pixels (non-zero where a person set the label), or null when no pixel is. */
export function readHumanMask(db: Db, imageId: number): { width: number; height: number; human: Uint8Array } | null {
  const row = db.prepare('SELECT width, height, human, human_pixels AS humanPixels FROM corrections WHERE image_id = ?').get(imageId) as
    | { width: number; height: number; human: Buffer; humanPixels: number }
    | undefined;
  if (!row || row.humanPixels === 0) return null;
  return { width: row.width, height: row.height, human: unpack(row.human, row.width * row.height) };
}

/** Inserts or replaces an image's correction row (its size is kept from the first write). */
export function writeCorrection(db: Db, w: CorrectionWrite): void {
  db.prepare(
    `INSERT INTO corrections (image_id, base_round_id, width, height, labels, human, human_pixels, version, revision, seconds_spent, updated_at)
     VALUES (@imageId, @baseRoundId, @width, @height, @labels, @human, @humanPixels, @version, @revision, @seconds, @updatedAt)
     ON CONFLICT (image_id) DO UPDATE SET base_round_id = excluded.base_round_id, labels = excluded.labels, human = excluded.human, human_pixels = excluded.human_pixels,
       version = excluded.version, revision = excluded.revision, seconds_spent = corrections.seconds_spent + excluded.seconds_spent, updated_at = excluded.updated_at`,
  ).run({
    imageId: w.imageId, baseRoundId: w.baseRoundId, width: w.width, height: w.height, labels: pack(w.labels), human: pack(w.human),
    humanPixels: w.humanPixels, version: w.version, revision: w.revision, seconds: w.secondsAdded, updatedAt: w.updatedAt,
  });
}

/** The version of an image's correction, or undefined without one. */
export function correctionVersion(db: Db, imageId: number): number | undefined {
  return (db.prepare('SELECT version FROM corrections WHERE image_id = ?').get(imageId) as { version: number } | undefined)?.version;
}

/** The stroke at position `seq` of an image's line, if it is there in the given undone state. */
export function getStroke(db: Db, imageId: number, seq: number, undone: boolean): StoredStroke | undefined {
  const row = db.prepare('SELECT id, seq, forward, backward FROM correction_strokes WHERE image_id = ? AND seq = ? AND undone = ?').get(
    imageId, seq, undone ? 1 : 0,
  ) as { id: number; seq: number; forward: Buffer; backward: Buffer } | undefined;
  return row && { id: row.id, seq: row.seq, forward: unpack(row.forward), backward: unpack(row.backward) };
}

export function hasStroke(db: Db, imageId: number, seq: number, undone: boolean): boolean {
  return db.prepare('SELECT 1 FROM correction_strokes WHERE image_id = ? AND seq = ? AND undone = ?').get(imageId, seq, undone ? 1 : 0) !== undefined;
}

export function countStrokes(db: Db, imageId: number): number {
  return (db.prepare('SELECT count(*) AS n FROM correction_strokes WHERE image_id = ?').get(imageId) as { n: number }).n;
}

/** Deletes an image's strokes at positions after `seq` (`after`) or up to and including it (`upTo`). */
export function deleteStrokes(db: Db, imageId: number, where: { after: number } | { upTo: number }): void {
  if ('after' in where) db.prepare('DELETE FROM correction_strokes WHERE image_id = ? AND seq > ?').run(imageId, where.after);
  else db.prepare('DELETE FROM correction_strokes WHERE image_id = ? AND seq <= ?').run(imageId, where.upTo);
}

export function insertStroke(db: Db, s: StrokeRecordWrite): void {
  db.prepare(
    'INSERT INTO correction_strokes (image_id, seq, tool, class_id, forward, backward, undone, ms, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)',
  ).run(s.imageId, s.seq, s.tool, s.classId, pack(s.forward), pack(s.backward), s.ms, s.createdAt);
}

export function setStrokeUndone(db: Db, strokeId: number, undone: boolean): void {
  db.prepare('UPDATE correction_strokes SET undone = ? WHERE id = ?').run(undone ? 1 : 0, strokeId);
}

/** The dataset a round was adapted to, or undefined when there is no such round. */
export function roundTargetDataset(db: Db, roundId: number): number | undefined {
  return (db.prepare('SELECT target_dataset_id AS target FROM rounds WHERE id = ?').get(roundId) as { target: number } | undefined)?.target;
}

/** Images, pixels and human-set pixels of a dataset's `split` images still on disk; human pixels elsewhere apart. */
export function budgetCounts(db: Db, datasetId: number, split: string): BudgetCounts {
  return db
    .prepare(
      `SELECT coalesce(sum(i.split = @split), 0) AS images,
              coalesce(sum(CASE WHEN i.split = @split THEN i.width * i.height END), 0) AS totalPixels,
              coalesce(sum(CASE WHEN i.split = @split THEN c.human_pixels END), 0) AS correctedPixels,
              coalesce(sum(i.split = @split AND c.human_pixels > 0), 0) AS correctedImages,
              coalesce(sum(CASE WHEN i.split <> @split THEN c.human_pixels END), 0) AS otherSplitPixels
         FROM images i LEFT JOIN corrections c ON c.image_id = i.id
        WHERE i.dataset_id = @datasetId AND i.missing = 0`,
    )
    .get({ datasetId, split }) as BudgetCounts;
}

/** Version and human pixel count of every corrected image (human pixels > 0) of a dataset. */
export function correctedImages(db: Db, datasetId: number): { imageId: number; version: number; humanPixels: number }[] {
  return db
    .prepare(
      `SELECT c.image_id AS imageId, c.version AS version, c.human_pixels AS humanPixels
         FROM corrections c JOIN images i ON i.id = c.image_id
        WHERE i.dataset_id = ? AND i.missing = 0 AND c.human_pixels > 0 ORDER BY c.image_id`,
    )
    .all(datasetId) as { imageId: number; version: number; humanPixels: number }[];
}
