// Which corrections a round trains on. The set is fixed when the round starts and recorded in the round's
// config, so a resumed round uses the same images.
import { HUMAN_IGNORE, IGNORE } from '../../shared/labels';
import { correctedImages, correctionVersion, getCorrectionRecord, readCorrection } from '../store/correctionsRepo';
import type { Db } from '../store/db';
import type { StoredImage } from '../store/datasetsRepo';

/** A label map at an image's own size, one trainId byte per pixel. */
export interface HumanLabels {
  width: number;
  height: number;
  data: Uint8Array;
}

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
  return Object.entries(snapshot.versions).filter(([id, version]) => correctionVersion(db, Number(id)) !== version).length;
}

/**
 * The labels a person set, 255 everywhere else (what a round trusts; a pixel a person marked ignore is
 * HUMAN_IGNORE), or null when nobody corrected the image.
 */
export function readHumanLabels(db: Db, imageId: number): HumanLabels | null {
  if (!getCorrectionRecord(db, imageId)?.humanPixels) return null;
  const planes = readCorrection(db, imageId)!;
  const data = planes.labels;
  for (let i = 0; i < data.length; i++) {
    if (planes.human[i] === 0) data[i] = IGNORE;
    else if (data[i] === IGNORE) data[i] = HUMAN_IGNORE;
  }
  return { width: planes.width, height: planes.height, data };
}

/**
 * The human-set labels of the snapshot's images (255 elsewhere). An image edited after the round started is
 * read as it is now, not as it was: the stroke log cannot always rebuild an older version (a new stroke after
 * undos replaces the redo line), so a round resumed after edits trains on the newer labels of the same images.
 */
export function trustedLabels(db: Db, snapshot: CorrectionSnapshot): (image: { id: number }) => HumanLabels | null {
  return (image) => (snapshot.versions[image.id] === undefined ? null : readHumanLabels(db, image.id));
}
