// Which corrections a round trains on. The set is fixed when the round starts and recorded in the round's
// config, so a resumed round uses the same images.
import type { LabelSource } from '../adapt/data';
import { correctedImages, readHumanLabels } from '../store/correctionsRepo';
import type { Db } from '../store/db';
import type { StoredImage } from '../store/datasetsRepo';

export interface CorrectionSnapshot {
  /** Corrected images among the round's target images, and their human-set pixels. */
  images: number;
  pixels: number;
  /** Correction version of each of those images when the round started, by image id. */
  versions: Record<string, number>;
}

export function snapshotCorrections(db: Db, targetImages: StoredImage[]): CorrectionSnapshot {
  const ids = new Set(targetImages.map((i) => i.id));
  const versions: Record<string, number> = {};
  let images = 0;
  let pixels = 0;
  const datasets = new Set(targetImages.map((i) => i.datasetId));
  for (const datasetId of datasets) {
    for (const c of correctedImages(db, datasetId)) {
      if (!ids.has(c.imageId)) continue;
      versions[c.imageId] = c.version;
      images++;
      pixels += c.humanPixels;
    }
  }
  return { images, pixels, versions };
}

/** How many of the snapshot's images were edited since (their version moved). */
export function changedSince(db: Db, snapshot: CorrectionSnapshot): number {
  const current = db.prepare('SELECT version FROM corrections WHERE image_id = ?');
  return Object.entries(snapshot.versions).filter(([id, version]) => (current.get(Number(id)) as { version: number } | undefined)?.version !== version).length;
}

/**
 * The human-set labels of the snapshot's images (255 elsewhere). An image edited after the round started is
 * read as it is now, not as it was: the stroke log cannot always rebuild an older version (a new stroke after
 * undos replaces the redo line), so a round resumed after edits trains on the newer labels of the same images.
 */
export function trustedLabels(db: Db, snapshot: CorrectionSnapshot): LabelSource {
  return (image) => (snapshot.versions[image.id] === undefined ? null : readHumanLabels(db, image.id));
}
