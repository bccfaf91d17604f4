// An image's correction as a linear undo line of strokes: each stroke is a delta (changed pixels only) applied on
// top of the revision the client drew on, stored with its inverse so undo and redo replay deltas. Every write is
// one transaction that first checks the caller's revision, so a stale window or bad input changes nothing.
import { UserError, type CorrectionState, type StrokeTool } from '../../shared/api';
import { applyDelta, decodeDelta, encodeDelta, type LabelDelta, type LabelPlanes } from '../../shared/labelDelta';
import type { Db } from '../store/db';
import {
  countStrokes, deleteStrokes, getCorrectionRecord, getStroke, hasStroke, insertStroke, readCorrection, roundTargetDataset, setStrokeUndone,
  writeCorrection, type CorrectionRecord,
} from '../store/correctionsRepo';
import { initialLabels } from './modelLabels';

/** Strokes kept per image; older ones are dropped (their changes stay in the label map, only their undo goes). */
export const MAX_STROKE_HISTORY = 1000;

export const STALE_MESSAGE = 'This image was changed elsewhere (another window?) since you loaded it; reload it to see the latest correction.';

/** What a correction needs to know about the image being corrected (as imported). */
export interface CorrectionImage {
  id: number;
  datasetId: number;
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

function humanCount(delta: LabelDelta): number {
  let n = 0;
  for (const h of delta.human) n += h;
  return n;
}

function checkSize(row: CorrectionRecord | undefined, image: CorrectionImage): void {
  if (row && (row.width !== image.width || row.height !== image.height)) {
    throw new UserError(
      `Image ${image.id} is now ${image.width}x${image.height} but its correction was made at ${row.width}x${row.height}; the file changed on disk, so the correction cannot be applied to it.`,
    );
  }
}

function checkBaseRound(db: Db, roundId: number, image: CorrectionImage): void {
  const target = roundTargetDataset(db, roundId);
  if (target === undefined) throw new UserError(`There is no round ${roundId} to start the correction from; reload the image.`);
  if (target !== image.datasetId) {
    throw new UserError(`Round ${roundId} was not adapted to this image's dataset; start the correction from one of the dataset's own rounds.`);
  }
}

/** The stored planes of a correction row (read in the same transaction). */
function storedPlanes(db: Db, imageId: number): LabelPlanes {
  const planes = readCorrection(db, imageId)!;
  return { labels: planes.labels, human: planes.human };
}

export function getCorrectionState(db: Db, image: CorrectionImage): CorrectionState {
  const row = getCorrectionRecord(db, image.id);
  if (!row) {
    return {
      imageId: image.id, width: image.width, height: image.height, version: 0, revision: 0, baseRoundId: null, humanPixels: 0,
      canUndo: false, canRedo: false, strokes: 0, secondsSpent: 0, updatedAt: null,
    };
  }
  return {
    imageId: image.id,
    width: row.width,
    height: row.height,
    version: row.version,
    revision: row.revision,
    baseRoundId: row.baseRoundId,
    humanPixels: row.humanPixels,
    canUndo: row.version > 0 && hasStroke(db, image.id, row.version, false),
    canRedo: hasStroke(db, image.id, row.version + 1, true),
    strokes: countStrokes(db, image.id),
    secondsSpent: row.secondsSpent,
    updatedAt: row.updatedAt,
  };
}

/** Applies one stroke on top of `baseRevision`; the first stroke creates the correction from its base round. */
export function applyStroke(db: Db, image: CorrectionImage, stroke: StrokeWrite): CorrectionState {
  db.transaction(() => {
    const row = getCorrectionRecord(db, image.id);
    const version = row?.version ?? 0;
    const revision = row?.revision ?? 0;
    if (stroke.baseRevision !== revision) throw new UserError(STALE_MESSAGE);
    checkSize(row, image);
    if (stroke.baseRoundId !== null) checkBaseRound(db, stroke.baseRoundId, image);
    const n = image.width * image.height;
    const delta = decodeDelta(stroke.delta, n);
    // With every stroke undone the map equals its base, so the editor may start over from another round's
    // prediction (the one it now shows); the old, undone strokes go with the old base.
    const fresh = !row || (version === 0 && row.baseRoundId !== stroke.baseRoundId);
    const baseRoundId = fresh ? stroke.baseRoundId : row!.baseRoundId;
    const planes: LabelPlanes = fresh
      ? { labels: initialLabels(db, baseRoundId, image.id, image.width, image.height), human: new Uint8Array(n) }
      : storedPlanes(db, image.id);
    const backward = applyDelta(planes, delta);
    const humanPixels = (fresh ? 0 : row!.humanPixels) + humanCount(delta) - humanCount(backward);
    const now = new Date().toISOString();
    writeCorrection(db, {
      imageId: image.id, baseRoundId, width: image.width, height: image.height, ...planes, humanPixels,
      version: version + 1, revision: revision + 1, secondsAdded: stroke.ms / 1000, updatedAt: now,
    });
    // A new stroke ends the redo line, as in every editor.
    deleteStrokes(db, image.id, { after: version });
    deleteStrokes(db, image.id, { upTo: version + 1 - MAX_STROKE_HISTORY });
    insertStroke(db, {
      imageId: image.id, seq: version + 1, tool: stroke.tool, classId: stroke.classId, forward: stroke.delta, backward: encodeDelta(backward),
      ms: stroke.ms, createdAt: now,
    });
  }).immediate();
  return getCorrectionState(db, image);
}

function step(db: Db, image: CorrectionImage, baseRevision: number, direction: 'undo' | 'redo'): { state: CorrectionState; delta: Uint8Array } {
  let applied!: Uint8Array;
  db.transaction(() => {
    const row = getCorrectionRecord(db, image.id);
    const version = row?.version ?? 0;
    if (baseRevision !== (row?.revision ?? 0)) throw new UserError(STALE_MESSAGE);
    checkSize(row, image);
    const stroke = row ? getStroke(db, image.id, direction === 'undo' ? version : version + 1, direction === 'redo') : undefined;
    if (!row || !stroke) throw new UserError(`There is nothing to ${direction} on image ${image.id}.`);
    applied = direction === 'undo' ? stroke.backward : stroke.forward;
    const planes = storedPlanes(db, image.id);
    const delta = decodeDelta(applied, row.width * row.height);
    const before = applyDelta(planes, delta);
    writeCorrection(db, {
      ...row, ...planes, humanPixels: row.humanPixels + humanCount(delta) - humanCount(before),
      version: direction === 'undo' ? version - 1 : version + 1, revision: row.revision + 1, secondsAdded: 0, updatedAt: new Date().toISOString(),
    });
    setStrokeUndone(db, stroke.id, direction === 'undo');
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
