// The region queue: each round's hardest superpixels per target image, and where a person stands with them.
import type { Region } from '../../shared/api';
import type { RegionWrite } from '../regions/imageRegions';
import type { Db } from './db';

export type RegionState = Region['state'];

interface RegionRow {
  id: number;
  round_id: number;
  image_id: number;
  superpixel: number;
  x: number;
  y: number;
  width: number;
  height: number;
  pixels: number;
  score: number;
  state: RegionState;
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

/** Queue order: score descending, then id. Images gone missing on disk are left out. */
const OPEN_IN_ORDER = `
  SELECT regions.* FROM regions JOIN images ON images.id = regions.image_id
   WHERE regions.round_id = ? AND regions.state = 'open' AND images.missing = 0`;

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

export function setRegionState(db: Db, regionId: number, state: RegionState): Region | undefined {
  db.prepare('UPDATE regions SET state = ? WHERE id = ?').run(state, regionId);
  return getRegion(db, regionId);
}
