// `exportLabels`: a dataset's labels in the Cityscapes gtFine layout, so the corrected set can train any other
// framework. Sources: a person's corrections (full label maps at the image's own size, stored in the project)
// and a finished round's predictions (stored at the working size, upsampled as the editor shows them).
import { UserError, type ImageSummary, type LabelFormat, type LabelSource } from '../../../shared/api';
import { modelLabelsAtNativeSize } from '../../corrections/modelLabels';
import { readCorrection } from '../../store/correctionsRepo';
import type { Db } from '../../store/db';
import { getDataset, latestDoneRoundId, listDatasets, listImages } from '../../store/datasetsRepo';
import { getRound } from '../../store/roundsRepo';
import { APP_VERSION } from '../../version';
import { encodeLabelPng, gtFinePath } from './labelFiles';
import { checkOutDir, explainWriteError, MAX_NAME_BYTES, openStagingFolder } from './stagingFolder';

export interface LabelExportRequest {
  datasetId: number;
  which: LabelSource;
  format: LabelFormat;
  /** For predicted / best: the round (default: the dataset's latest finished round). Ignored for corrected. */
  roundId?: number;
  outDir: string;
}

export type Provenance = 'corrected' | 'predicted';

/** What `export.json` holds. */
export interface LabelExportManifest {
  layout: 'cityscapes-gtFine';
  app: string;
  exportedAt: string;
  dataset: { id: number; name: string; kind: string };
  which: LabelSource;
  format: LabelFormat;
  /** The round the predictions come from; null for corrected. */
  round: { id: number; method: string; preset: string; finishedAt: string | null } | null;
  counts: { images: number; corrected: number; predicted: number; skipped: number };
  images: { file: string; imageId: number; split: string; city: string; name: string; source: Provenance }[];
  skipped: { imageId: number; name: string; reason: string }[];
}

export interface ExportContext {
  signal: AbortSignal;
  progress(phase: string, done: number, total: number): void;
}

export interface LabelExport {
  /** The resolved output folder. */
  outDir: string;
  /** Label files to write. */
  total: number;
  /** Writes the export (into a staging folder, renamed to outDir at the end); resolves with the manifest. */
  run(ctx: ExportContext): Promise<LabelExportManifest>;
}

interface Item {
  image: ImageSummary;
  source: Provenance;
}

function chooseRound(db: Db, request: LabelExportRequest) {
  if (request.roundId === undefined) {
    const latest = latestDoneRoundId(db, request.datasetId);
    if (latest === null) {
      throw new UserError(`Dataset ${request.datasetId} has no finished round to take predictions from; run a round first, or export --which corrected.`);
    }
    return getRound(db, latest)!;
  }
  const round = getRound(db, request.roundId);
  if (!round) throw new UserError(`There is no round ${request.roundId} in this project.`);
  if (round.targetDatasetId !== request.datasetId) {
    throw new UserError(`Round ${round.id} was not adapted to dataset ${request.datasetId}; pick one of that dataset's rounds.`);
  }
  if (round.status !== 'done') throw new UserError(`Round ${round.id} has not finished (${round.status}); pick a finished round.`);
  return round;
}

function predictedImageIds(db: Db, roundId: number): Set<number> {
  const rows = db.prepare('SELECT image_id AS id FROM round_layers WHERE round_id = ? AND prediction IS NOT NULL').all(roundId) as { id: number }[];
  return new Set(rows.map((r) => r.id));
}

/**
 * Checks the request (dataset, round, output folder) and lists what will be written; throws a UserError before
 * anything is written. The returned `run` does the writing.
 */
export function prepareLabelExport(db: Db, request: LabelExportRequest): LabelExport {
  const dataset = getDataset(db, request.datasetId);
  if (!dataset) throw new UserError(`There is no dataset ${request.datasetId} in this project.`);
  const outDir = checkOutDir(request.outDir, listDatasets(db).map((d) => ({ root: d.root, name: d.name })));
  const images = listImages(db, { datasetId: dataset.id });
  const round = request.which === 'corrected' ? null : chooseRound(db, request);
  const predicted = round ? predictedImageIds(db, round.id) : new Set<number>();

  const items: Item[] = [];
  const skipped: LabelExportManifest['skipped'] = [];
  for (const image of images) {
    if (image.correctedPixels > 0 && request.which !== 'predicted') items.push({ image, source: 'corrected' });
    else if (request.which === 'corrected') continue;
    else if (predicted.has(image.id)) items.push({ image, source: 'predicted' });
    else skipped.push({ imageId: image.id, name: image.name, reason: `round ${round!.id} has no prediction for it` });
  }
  if (items.length === 0) {
    throw new UserError(
      request.which === 'corrected'
        ? `Dataset ${dataset.id} has no corrected images yet; correct some in the editor, or export --which predicted.`
        : `Round ${round!.id} predicted none of dataset ${dataset.id}'s images; pick another round.`,
    );
  }

  // A name too long for the file system would fail mid-export with a bare ENAMETOOLONG: refuse before writing.
  for (const { image } of items) {
    const name = gtFinePath(image, request.format).split('/').pop()!;
    const bytes = Buffer.byteLength(name);
    if (bytes > MAX_NAME_BYTES) {
      throw new UserError(
        `Cannot export the labels of image ${image.id} ("${image.name.slice(0, 40)}…"): its file name ${name.length > 60 ? `${name.slice(0, 30)}…${name.slice(-30)}` : name} would be ${bytes} bytes, more than the ${MAX_NAME_BYTES} a file name may have; shorten the image's name in the dataset and import it again.`,
      );
    }
  }

  const run = async (ctx: ExportContext): Promise<LabelExportManifest> => {
    const staging = await openStagingFolder(outDir);
    const written: LabelExportManifest['images'] = [];
    let next = 0;
    let done = 0;
    let failure: unknown = null;
    const labelsOf = ({ image, source }: Item): Uint8Array | string => {
      if (source === 'predicted') return modelLabelsAtNativeSize(db, round!.id, image.id, image.width, image.height);
      const correction = readCorrection(db, image.id);
      if (!correction) return 'its correction was removed during the export';
      if (correction.width !== image.width || correction.height !== image.height) {
        return `its correction was made at ${correction.width}x${correction.height} but the image is now ${image.width}x${image.height}`;
      }
      return correction.labels;
    };
    const worker = async () => {
      while (next < items.length && failure === null) {
        ctx.signal.throwIfAborted();
        const item = items[next++]!;
        const labels = labelsOf(item);
        if (typeof labels === 'string') {
          skipped.push({ imageId: item.image.id, name: item.image.name, reason: labels });
        } else {
          const file = gtFinePath(item.image, request.format);
          await staging.write(file, await encodeLabelPng(labels, item.image.width, item.image.height, request.format));
          const { id: imageId, split, city, name } = item.image;
          written.push({ file, imageId, split, city, name, source: item.source });
        }
        done++;
        if (done % 10 === 0 || done === items.length) ctx.progress('writing labels', done, items.length);
      }
    };
    const guarded = () => worker().catch((error: unknown) => void (failure ??= error));
    try {
      ctx.progress('writing labels', 0, items.length);
      // Both workers settle before anything is removed, so no write lands in a discarded folder.
      await Promise.all([guarded(), guarded()]);
      if (failure !== null) throw failure;
      ctx.signal.throwIfAborted();
      written.sort((a, b) => a.file.localeCompare(b.file));
      const manifest: LabelExportManifest = {
        layout: 'cityscapes-gtFine',
        app: APP_VERSION,
        exportedAt: new Date().toISOString(),
        dataset: { id: dataset.id, name: dataset.name, kind: dataset.kind },
        which: request.which,
        format: request.format,
        round: round && { id: round.id, method: round.method, preset: round.preset, finishedAt: round.finishedAt },
        counts: {
          images: written.length,
          corrected: written.filter((w) => w.source === 'corrected').length,
          predicted: written.filter((w) => w.source === 'predicted').length,
          skipped: skipped.length,
        },
        images: written,
        skipped,
      };
      await staging.write('export.json', `${JSON.stringify(manifest, null, 2)}\n`);
      await staging.commit();
      return manifest;
    } catch (error) {
      await staging.discard();
      throw explainWriteError(error, outDir);
    }
  };

  return { outDir, total: items.length, run };
}
