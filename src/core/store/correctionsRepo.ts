// Label corrections in the project database: one row per corrected image holding the full label map and the
// mask of human-set pixels (compressed), and the image's stroke log as a linear undo line. Every write is one
// transaction that first checks the caller's version, so a stale window or bad input changes nothing.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { HUMAN_IGNORE, IGNORE } from '../../shared/labels';
import { TRAINING_SPLIT, UserError, type Budget, type CorrectionState, type StrokeTool } from '../../shared/api';
import { applyDelta, decodeDelta, encodeDelta, type LabelDelta, type LabelPlanes } from '../../shared/labelDelta';
import { initialLabels } from '../corrections/modelLabels';
import type { Db } from './db';

/** Strokes kept per image; older ones are dropped (their changes stay in the label map, only their undo goes). */
export const MAX_STROKE_HISTORY = 1000;

export const STALE_MESSAGE = 'This image was changed elsewhere (another window?) since you loaded it; reload it to see the latest correction.';

/** What the repository needs to know about the image being corrected (as imported). */
export interface CorrectionImage {
  id: number;
  datasetId: number;
  width: number;
  height: number;
}

export interface CorrectionPlanes extends LabelPlanes {
  width: number;
  height: number;
}

export interface StrokeWrite {
  baseRevision: number;
  baseRoundId: number | null;
  tool: StrokeTool;
  classId: number | null;
  /** The delta as encoded by shared/labelDelta.ts. */
  delta: Uint8Array;
  ms: number;
}

interface CorrectionRow {
  image_id: number;
  base_round_id: number | null;
  width: number;
  height: number;
  labels: Buffer;
  human: Buffer;
  human_pixels: number;
  version: number;
  revision: number;
  seconds_spent: number;
  updated_at: string;
}

interface StrokeRow {
  id: number;
  seq: number;
  forward: Buffer;
  backward: Buffer;
}

// Level 1: label maps are long runs, so the fastest level already compresses them well and a stroke's save
// stays a few milliseconds on a 2048x1024 image.
const pack = (bytes: Uint8Array): Buffer => deflateRawSync(bytes, { level: 1 });

function unpack(blob: Buffer, length?: number): Uint8Array {
  const bytes = inflateRawSync(blob);
  if (length !== undefined && bytes.length !== length) throw new Error(`stored correction has ${bytes.length} bytes, expected ${length}`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const getRow = (db: Db, imageId: number) =>
  db.prepare('SELECT * FROM corrections WHERE image_id = ?').get(imageId) as CorrectionRow | undefined;

function humanCount(delta: LabelDelta): number {
  let n = 0;
  for (const h of delta.human) n += h;
  return n;
}

function checkSize(row: CorrectionRow | undefined, image: CorrectionImage): void {
  if (row && (row.width !== image.width || row.height !== image.height)) {
    throw new UserError(
      `Image ${image.id} is now ${image.width}x${image.height} but its correction was made at ${row.width}x${row.height}; the file changed on disk, so the correction cannot be applied to it.`,
    );
  }
}

function checkBaseRound(db: Db, roundId: number, image: CorrectionImage): void {
  const round = db.prepare('SELECT target_dataset_id AS target FROM rounds WHERE id = ?').get(roundId) as { target: number } | undefined;
  if (!round) throw new UserError(`There is no round ${roundId} to start the correction from; reload the image.`);
  if (round.target !== image.datasetId) {
    throw new UserError(`Round ${roundId} was not adapted to this image's dataset; start the correction from one of the dataset's own rounds.`);
  }
}

export function getCorrectionState(db: Db, image: CorrectionImage): CorrectionState {
  const row = getRow(db, image.id);
  if (!row) {
    return {
      imageId: image.id, width: image.width, height: image.height, version: 0, revision: 0, baseRoundId: null, humanPixels: 0,
      canUndo: false, canRedo: false, strokes: 0, secondsSpent: 0, updatedAt: null,
    };
  }
  const at = (seq: number, undone: 0 | 1) =>
    db.prepare('SELECT 1 FROM correction_strokes WHERE image_id = ? AND seq = ? AND undone = ?').get(image.id, seq, undone) !== undefined;
  const strokes = (db.prepare('SELECT count(*) AS n FROM correction_strokes WHERE image_id = ?').get(image.id) as { n: number }).n;
  return {
    imageId: image.id,
    width: row.width,
    height: row.height,
    version: row.version,
    revision: row.revision,
    baseRoundId: row.base_round_id,
    humanPixels: row.human_pixels,
    canUndo: row.version > 0 && at(row.version, 0),
    canRedo: at(row.version + 1, 1),
    strokes,
    secondsSpent: row.seconds_spent,
    updatedAt: row.updated_at,
  };
}

/** The stored label map and human mask at the image's own resolution, or null when the image has no correction. */
export function readCorrection(db: Db, imageId: number): CorrectionPlanes | null {
  const row = getRow(db, imageId);
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

/**
 * The labels a person set, 255 everywhere else (what a round trusts), or null when nobody corrected the image.
 */
export function readHumanLabels(db: Db, imageId: number): { width: number; height: number; data: Uint8Array } | null {
  const row = getRow(db, imageId);
  if (!row || row.human_pixels === 0) return null;
  const planes = readCorrection(db, imageId)!;
  const data = planes.labels;
  for (let i = 0; i < data.length; i++) {
    if (planes.human[i] === 0) data[i] = IGNORE;
    else if (data[i] === IGNORE) data[i] = HUMAN_IGNORE;
  }
  return { width: planes.width, height: planes.height, data };
}

/** Applies one stroke on top of `baseRevision`; the first stroke creates the correction from its base round. */
export function applyStroke(db: Db, image: CorrectionImage, stroke: StrokeWrite): CorrectionState {
  db.transaction(() => {
    const row = getRow(db, image.id);
    const version = row?.version ?? 0;
    const revision = row?.revision ?? 0;
    if (stroke.baseRevision !== revision) throw new UserError(STALE_MESSAGE);
    checkSize(row, image);
    if (stroke.baseRoundId !== null) checkBaseRound(db, stroke.baseRoundId, image);
    const n = image.width * image.height;
    const delta = decodeDelta(stroke.delta, n);
    // With every stroke undone the map equals its base, so the editor may start over from another round's
    // prediction (the one it now shows); the old, undone strokes go with the old base.
    const fresh = !row || (version === 0 && row.base_round_id !== stroke.baseRoundId);
    const baseRoundId = fresh ? stroke.baseRoundId : row!.base_round_id;
    const planes: LabelPlanes = fresh
      ? { labels: initialLabels(db, baseRoundId, image.id, image.width, image.height), human: new Uint8Array(n) }
      : { labels: unpack(row!.labels, n), human: unpack(row!.human, n) };
    const backward = applyDelta(planes, delta);
    const humanPixels = (fresh ? 0 : row!.human_pixels) + humanCount(delta) - humanCount(backward);
    const now = new Date().toISOString();
    db.prepare(
      `INSERT INTO corrections (image_id, base_round_id, width, height, labels, human, human_pixels, version, revision, seconds_spent, updated_at)
       VALUES (@imageId, @baseRoundId, @width, @height, @labels, @human, @humanPixels, @version, @revision, @seconds, @now)
       ON CONFLICT (image_id) DO UPDATE SET base_round_id = excluded.base_round_id, labels = excluded.labels, human = excluded.human, human_pixels = excluded.human_pixels,
         version = excluded.version, revision = excluded.revision, seconds_spent = corrections.seconds_spent + excluded.seconds_spent, updated_at = excluded.updated_at`,
    ).run({
      imageId: image.id, baseRoundId, width: image.width, height: image.height,
      labels: pack(planes.labels), human: pack(planes.human), humanPixels, version: version + 1, revision: revision + 1, seconds: stroke.ms / 1000, now,
    });
    // A new stroke ends the redo line, as in every editor.
    db.prepare('DELETE FROM correction_strokes WHERE image_id = ? AND seq > ?').run(image.id, version);
    db.prepare('DELETE FROM correction_strokes WHERE image_id = ? AND seq <= ?').run(image.id, version + 1 - MAX_STROKE_HISTORY);
    db.prepare(
      'INSERT INTO correction_strokes (image_id, seq, tool, class_id, forward, backward, undone, ms, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)',
    ).run(image.id, version + 1, stroke.tool, stroke.classId, pack(stroke.delta), pack(encodeDelta(backward)), stroke.ms, now);
  }).immediate();
  return getCorrectionState(db, image);
}

function step(db: Db, image: CorrectionImage, baseRevision: number, direction: 'undo' | 'redo'): { state: CorrectionState; delta: Uint8Array } {
  let applied!: Uint8Array;
  db.transaction(() => {
    const row = getRow(db, image.id);
    const version = row?.version ?? 0;
    if (baseRevision !== (row?.revision ?? 0)) throw new UserError(STALE_MESSAGE);
    checkSize(row, image);
    const seq = direction === 'undo' ? version : version + 1;
    const stroke = row
      ? (db.prepare('SELECT id, seq, forward, backward FROM correction_strokes WHERE image_id = ? AND seq = ? AND undone = ?').get(
          image.id, seq, direction === 'undo' ? 0 : 1,
        ) as StrokeRow | undefined)
      : undefined;
    if (!row || !stroke) throw new UserError(`There is nothing to ${direction} on image ${image.id}.`);
    const n = row.width * row.height;
    applied = unpack(direction === 'undo' ? stroke.backward : stroke.forward);
    const planes: LabelPlanes = { labels: unpack(row.labels, n), human: unpack(row.human, n) };
    const delta = decodeDelta(applied, n);
    const before = applyDelta(planes, delta);
    db.prepare('UPDATE corrections SET labels = ?, human = ?, human_pixels = ?, version = ?, revision = revision + 1, updated_at = ? WHERE image_id = ?').run(
      pack(planes.labels), pack(planes.human), row.human_pixels + humanCount(delta) - humanCount(before),
      direction === 'undo' ? version - 1 : version + 1, new Date().toISOString(), image.id,
    );
    db.prepare('UPDATE correction_strokes SET undone = ? WHERE id = ?').run(direction === 'undo' ? 1 : 0, stroke.id);
  }).immediate();
  return { state: getCorrectionState(db, image), delta: applied };
}

/** Undoes the stroke at the top of the undo line; returns the delta the client applies to match. */
export function undoStroke(db: Db, image: CorrectionImage, baseRevision: number): { state: CorrectionState; delta: Uint8Array } {
  return step(db, image, baseRevision, 'undo');
}

/** Re-applies the most recently undone stroke; returns the delta the client applies to match. */
export function redoStroke(db: Db, image: CorrectionImage, baseRevision: number): { state: CorrectionState; delta: Uint8Array } {
  return step(db, image, baseRevision, 'redo');
}

/**
 * Corrected pixels against all pixels of a dataset's training-split images (those still on disk): RIPU's budgets
 * are shares of the target training set, and rounds learn from that split only. Human pixels on other splits are
 * counted apart.
 */
export function correctionBudget(db: Db, datasetId: number): Budget {
  const row = db
    .prepare(
      `SELECT coalesce(sum(i.split = @split), 0) AS images,
              coalesce(sum(CASE WHEN i.split = @split THEN i.width * i.height END), 0) AS totalPixels,
              coalesce(sum(CASE WHEN i.split = @split THEN c.human_pixels END), 0) AS correctedPixels,
              coalesce(sum(i.split = @split AND c.human_pixels > 0), 0) AS correctedImages,
              coalesce(sum(CASE WHEN i.split <> @split THEN c.human_pixels END), 0) AS otherSplitPixels
         FROM images i LEFT JOIN corrections c ON c.image_id = i.id
        WHERE i.dataset_id = @datasetId AND i.missing = 0`,
    )
    .get({ datasetId, split: TRAINING_SPLIT }) as Omit<Budget, 'datasetId' | 'share'>;
  return { datasetId, ...row, share: row.totalPixels > 0 ? Math.min(1, row.correctedPixels / row.totalPixels) : 0 };
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
