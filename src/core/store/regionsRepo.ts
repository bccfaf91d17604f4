// The region queue: each round's hardest superpixels per target image, and where a person stands with them.
import { TRAINING_SPLIT, type Region, type RegionStats } from '../../shared/api';
import type { Db } from './db';

export type RegionState = Region['state'];

/** One review region as a round stores it (regions/imageRegions.ts picks them). */
export interface RegionWrite {
  superpixel: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Native pixels. */
  pixels: number;
  score: number;
}

interface RegionRow extends RegionWrite {
  id: number;
  round_id: number;
  image_id: number;
  state: RegionState;
  seconds: number | null;
}

const toRegion = (r: RegionRow): Region => ({
  id: r.id,
  roundId: r.round_id,
  imageId: r.image_id,
  x: r.x,
  y: r.y,
  width: r.width,
  height: r.height,
  superpixel: r.superpixel,
  pixels: r.pixels,
  score: r.score,
  state: r.state,
  seconds: r.seconds,
});

/** Replaces an image's regions for a round (a resumed round predicts an image again). Call inside a transaction. */
export function replaceImageRegions(db: Db, roundId: number, imageId: number, regions: RegionWrite[]): void {
  db.prepare('DELETE FROM regions WHERE round_id = ? AND image_id = ?').run(roundId, imageId);
  const insert = db.prepare(
    'INSERT INTO regions (round_id, image_id, superpixel, x, y, width, height, pixels, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (const r of regions) insert.run(roundId, imageId, r.superpixel, r.x, r.y, r.width, r.height, r.pixels, r.score);
}

export function getRegion(db: Db, regionId: number): Region | undefined {
  const row = db.prepare('SELECT * FROM regions WHERE id = ?').get(regionId) as RegionRow | undefined;
  return row && toRegion(row);
}

export function listRegions(db: Db, roundId: number, imageId?: number): Region[] {
  const rows = (
    imageId === undefined
      ? db.prepare('SELECT * FROM regions WHERE round_id = ? ORDER BY score DESC, id').all(roundId)
      : db.prepare('SELECT * FROM regions WHERE round_id = ? AND image_id = ? ORDER BY score DESC, id').all(roundId, imageId)
  ) as RegionRow[];
  return rows.map(toRegion);
}

/**
 * The regions a person is offered: those on images of the split rounds learn from (corrections elsewhere are never
 * trained on) that are still on disk.
 */
const QUEUED = `regions JOIN images ON images.id = regions.image_id
   WHERE regions.round_id = ? AND images.missing = 0 AND images.split = '${TRAINING_SPLIT}'`;

/** Queue order: score descending, then id. */
const OPEN_IN_ORDER = `SELECT regions.* FROM ${QUEUED} AND regions.state = 'open'`;

/**
 * The hardest open region of a round; with `after`, the first open region ranked below it (wrapping round to
 * the top, never `after` itself), so skipping without marking moves through the queue instead of back and forth.
 */
export function nextOpenRegion(db: Db, roundId: number, after?: Region): Region | null {
  let row: RegionRow | undefined;
  if (after) {
    row = db
      .prepare(`${OPEN_IN_ORDER} AND (regions.score < ? OR (regions.score = ? AND regions.id > ?)) ORDER BY regions.score DESC, regions.id LIMIT 1`)
      .get(roundId, after.score, after.score, after.id) as RegionRow | undefined;
    row ??= db.prepare(`${OPEN_IN_ORDER} AND regions.id <> ? ORDER BY regions.score DESC, regions.id LIMIT 1`).get(roundId, after.id) as RegionRow | undefined;
  } else {
    row = db.prepare(`${OPEN_IN_ORDER} ORDER BY regions.score DESC, regions.id LIMIT 1`).get(roundId) as RegionRow | undefined;
  }
  return row ? toRegion(row) : null;
}

/** Sets a region's state; `seconds` (time spent on this visit) adds to the time it already has. */
export function setRegionState(db: Db, regionId: number, state: RegionState, seconds?: number): Region | undefined {
  db.prepare('UPDATE regions SET state = ?, seconds = CASE WHEN ? IS NULL THEN seconds ELSE coalesce(seconds, 0) + ? END WHERE id = ?').run(
    state, seconds ?? null, seconds ?? null, regionId,
  );
  return getRegion(db, regionId);
}

/** The open regions of one image in a round. */
export function openImageRegions(db: Db, roundId: number, imageId: number): Region[] {
  const rows = db.prepare("SELECT * FROM regions WHERE round_id = ? AND image_id = ? AND state = 'open' ORDER BY score DESC, id").all(roundId, imageId) as RegionRow[];
  return rows.map(toRegion);
}

/** Marks open regions covered (a person already corrected most of them); other states are left alone. */
export function markCovered(db: Db, regionIds: readonly number[]): void {
  const update = db.prepare("UPDATE regions SET state = 'covered' WHERE id = ? AND state = 'open'");
  db.transaction(() => {
    for (const id of regionIds) update.run(id);
  }).immediate();
}

/** Counts by state and the median time per timed region of a round, over the queue's images (see QUEUED). */
export function regionStats(db: Db, roundId: number): RegionStats {
  const stats: RegionStats = { roundId, open: 0, done: 0, skipped: 0, covered: 0, timed: 0, medianSeconds: null };
  const counts = db
    .prepare(`SELECT regions.state AS state, count(*) AS n FROM ${QUEUED} GROUP BY regions.state`)
    .all(roundId) as { state: RegionState; n: number }[];
  for (const { state, n } of counts) stats[state] = n;
  const seconds = (
    db
      .prepare(`SELECT regions.seconds AS s FROM ${QUEUED} AND regions.seconds IS NOT NULL ORDER BY regions.seconds`)
      .all(roundId) as { s: number }[]
  ).map((r) => r.s);
  stats.timed = seconds.length;
  if (seconds.length > 0) {
    const mid = seconds.length >> 1;
    stats.medianSeconds = seconds.length % 2 === 1 ? seconds[mid]! : (seconds[mid - 1]! + seconds[mid]!) / 2;
  }
  return stats;
}
