// Adaptation rounds, their checkpoints and per-image layers in the project database.
import type { CurvePoint } from '../../shared/api';
import type { Db } from './db';
import { replaceImageRegions, type RegionWrite } from './regionsRepo';

export type RoundStatus = 'running' | 'predicting' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface RoundRow {
  id: number;
  parentId: number | null;
  sourceDatasetId: number;
  targetDatasetId: number;
  method: string;
  preset: string;
  config: Record<string, unknown>;
  status: RoundStatus;
  backend: Record<string, unknown> | null;
  iteration: number;
  timings: Record<string, number> | null;
  metrics: Record<string, unknown> | null;
  /** Val scorings while training, by iteration (empty when none were made). */
  curve: CurvePoint[];
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface RawRound {
  id: number;
  parent_id: number | null;
  source_dataset_id: number;
  target_dataset_id: number;
  method: string;
  preset: string;
  config: string;
  status: RoundStatus;
  backend: string | null;
  iteration: number;
  timings: string | null;
  metrics: string | null;
  curve: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

const toRound = (r: RawRound): RoundRow => ({
  id: r.id,
  parentId: r.parent_id,
  sourceDatasetId: r.source_dataset_id,
  targetDatasetId: r.target_dataset_id,
  method: r.method,
  preset: r.preset,
  config: JSON.parse(r.config) as Record<string, unknown>,
  status: r.status,
  backend: json(r.backend),
  iteration: r.iteration,
  timings: json(r.timings),
  metrics: json(r.metrics),
  curve: json<CurvePoint[]>(r.curve) ?? [],
  error: r.error,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

export function createRound(
  db: Db,
  r: { parentId: number | null; sourceDatasetId: number; targetDatasetId: number; method: string; preset: string; config: object; backend: object },
): number {
  return Number(
    db
      .prepare(
        `INSERT INTO rounds (parent_id, source_dataset_id, target_dataset_id, method, preset, config, status, backend, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      )
      .run(r.parentId, r.sourceDatasetId, r.targetDatasetId, r.method, r.preset, JSON.stringify(r.config), JSON.stringify(r.backend), new Date().toISOString())
      .lastInsertRowid,
  );
}

export function getRound(db: Db, id: number): RoundRow | undefined {
  const row = db.prepare('SELECT * FROM rounds WHERE id = ?').get(id) as RawRound | undefined;
  return row && toRound(row);
}

export function listRounds(db: Db): RoundRow[] {
  return (db.prepare('SELECT * FROM rounds ORDER BY id').all() as RawRound[]).map(toRound);
}

export function updateRound(
  db: Db,
  id: number,
  patch: Partial<Pick<RoundRow, 'status' | 'iteration' | 'timings' | 'metrics' | 'curve' | 'error' | 'backend'>> & { finished?: boolean },
): void {
  const sets: string[] = [];
  const values: unknown[] = [];
  const add = (column: string, value: unknown) => {
    sets.push(`${column} = ?`);
    values.push(value);
  };
  if (patch.status !== undefined) add('status', patch.status);
  if (patch.iteration !== undefined) add('iteration', patch.iteration);
  if (patch.timings !== undefined) add('timings', JSON.stringify(patch.timings));
  if (patch.metrics !== undefined) add('metrics', JSON.stringify(patch.metrics));
  if (patch.curve !== undefined) add('curve', JSON.stringify(patch.curve));
  if (patch.backend !== undefined) add('backend', JSON.stringify(patch.backend));
  if (patch.error !== undefined) add('error', patch.error);
  if (patch.finished) add('finished_at', new Date().toISOString());
  if (sets.length === 0) return;
  db.prepare(`UPDATE rounds SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
}

export function addCheckpoint(db: Db, roundId: number, iteration: number, path: string, sha256: string): void {
  db.transaction(() => {
    db.prepare('INSERT INTO checkpoints (round_id, iteration, path, sha256, created_at) VALUES (?, ?, ?, ?, ?)').run(
      roundId, iteration, path, sha256, new Date().toISOString(),
    );
    db.prepare('UPDATE rounds SET iteration = ? WHERE id = ?').run(iteration, roundId);
  }).immediate();
}

export function latestCheckpoint(db: Db, roundId: number): { iteration: number; path: string; sha256: string } | undefined {
  return db
    .prepare('SELECT iteration, path, sha256 FROM checkpoints WHERE round_id = ? ORDER BY iteration DESC LIMIT 1')
    .get(roundId) as { iteration: number; path: string; sha256: string } | undefined;
}

export interface LayerWrite {
  imageId: number;
  prediction: Buffer;
  confidence: Buffer;
  difficulty: Buffer | null;
  depthSrc: Buffer | null;
  depthTgt: Buffer | null;
  difficultyScore: number;
  /** The second most probable class per pixel (8-bit PNG), and SLIC superpixel ids (16-bit PNG). */
  second: Buffer;
  superpixels: Buffer;
  /** The image's review regions; they replace any the round stored for the image before. */
  regions: RegionWrite[];
}

export function saveLayers(db: Db, roundId: number, layers: LayerWrite[]): void {
  const insert = db.prepare(
    `INSERT OR REPLACE INTO round_layers (round_id, image_id, prediction, confidence, difficulty, depth_src, depth_tgt, difficulty_score, second, superpixels)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const l of layers) {
      insert.run(roundId, l.imageId, l.prediction, l.confidence, l.difficulty, l.depthSrc, l.depthTgt, l.difficultyScore, l.second, l.superpixels);
      replaceImageRegions(db, roundId, l.imageId, l.regions);
    }
  }).immediate();
}

export type LayerName = 'prediction' | 'confidence' | 'difficulty' | 'depth_src' | 'depth_tgt' | 'second' | 'superpixels';

export function getLayer(db: Db, roundId: number, imageId: number, layer: LayerName): Buffer | null {
  const row = db.prepare(`SELECT ${layer} AS blob FROM round_layers WHERE round_id = ? AND image_id = ?`).get(roundId, imageId) as
    | { blob: Buffer | null }
    | undefined;
  return row?.blob ?? null;
}
