// A simulated annotator, as RIPU measures active adaptation: it walks a round's region queue exactly as a
// person does in the editor (nextRegion, then setRegionState done / skipped, then nextRegion after it) and,
// for each region, copies the image's ground truth into the region's superpixel at the image's own size
// through the editor's stroke path (getCorrection, then applyStroke with a LabelDelta of the changed pixels,
// one brush stroke per class, locked to the superpixel). It stops once the corrected share of the training
// split's pixels reaches the budget, or when the queue is empty.
//
// The budget is a share of the training split's pixels (RIPU's 2.2 % and 5 % are shares of the target
// *training* set), the same share the editor's meter shows. The queue offers regions on training images only;
// a region on another split (none is offered) would be marked skipped, so the evaluated splits stay untouched.
// Ground-truth pixels 255 (void) inside a region are left as they are.
import { TRAINING_SPLIT, UserError, type Budget, type ImageSummary, type Region, type Split } from '../shared/api';
import { IGNORE } from '../shared/labels';
import { bytesToBase64, deltaFromIndices, encodeDelta } from '../shared/labelDelta';
import { containedPath } from '../core/datasets/assets';
import { readTrainIds } from '../core/datasets/labelsIO';
import type { Service } from '../core/service';
import { getImage } from '../core/store/datasetsRepo';

export interface SimulateOptions {
  datasetId: number;
  /** The round whose queue is walked; default: the dataset's latest finished round (as the editor). */
  roundId?: number;
  /** Share of the training split's pixels to correct, in (0, 1]. */
  budget: number;
  /** Called after each region. */
  onProgress?: (progress: { regions: number; share: number }) => void;
}

export interface SimulationResult {
  datasetId: number;
  roundId: number;
  split: Split;
  budget: number;
  /** Regions corrected and marked done. */
  regions: number;
  /** Regions offered on another split, marked skipped (0: the queue offers training images only). */
  skipped: number;
  /** Strokes sent (one per class per region). */
  strokes: number;
  /** Pixels the annotator set by hand (the budget's unit), and those of them whose label changed. */
  pixels: number;
  relabelled: number;
  /** Corrected pixels of the training split's images against all their pixels, after the walk. */
  splitPixels: number;
  splitCorrectedPixels: number;
  share: number;
  /** The editor's meter (getBudget): its share equals `share`, and it counts human pixels on other splits apart. */
  meter: Budget;
  /** budget: the share reached the budget; queue: no open region was left before it did. */
  stopped: 'budget' | 'queue';
}

/** The image's ground truth in trainIds at its own size. */
async function groundTruth(service: Service, image: ImageSummary): Promise<Uint8Array> {
  const stored = getImage(service.db, image.id);
  if (!stored?.labelPath) throw new UserError(`Image ${image.id} (${image.name}) has no ground truth to copy; the simulated annotator needs gtFine labels.`);
  const gt = await readTrainIds(containedPath(stored.root, stored.labelPath), stored.kind);
  if (gt.width !== image.width || gt.height !== image.height) {
    throw new UserError(`The ground truth of image ${image.id} (${image.name}) is ${gt.width}x${gt.height} but the image is ${image.width}x${image.height}.`);
  }
  return gt.data;
}

async function assetBytes(service: Service, request: Parameters<Service['asset']>[0]): Promise<Uint8Array> {
  const asset = await service.asset(request);
  if (!('data' in asset)) throw new Error('expected an in-memory asset');
  return new Uint8Array(asset.data.buffer, asset.data.byteOffset, asset.data.byteLength);
}

interface ImageBuffers {
  imageId: number;
  gt: Uint8Array;
  superpixels: Uint16Array;
}

export async function simulateAnnotator(service: Service, options: SimulateOptions): Promise<SimulationResult> {
  const { datasetId, budget } = options;
  const split: Split = TRAINING_SPLIT;
  if (!(budget > 0 && budget <= 1)) throw new UserError(`The budget is a share of pixels between 0 and 1 (0.022 for 2.2 %), got ${budget}.`);
  const all = await service.call('listImages', { datasetId });
  const stats = await service.call('getRegionStats', { datasetId, ...(options.roundId !== undefined && { roundId: options.roundId }) });
  if (stats.roundId === null) throw new UserError(`Dataset ${datasetId} has no finished round to take regions from; run \`corda adapt\` first.`);
  const roundId = stats.roundId;
  const images = new Map(all.map((i) => [i.id, i]));
  const inSplit = all.filter((i) => i.split === split);
  if (inSplit.length === 0) throw new UserError(`Dataset ${datasetId} has no ${split} images to correct.`);
  const unlabelled = inSplit.find((i) => !i.hasLabels);
  if (unlabelled) throw new UserError(`Image ${unlabelled.id} (${unlabelled.name}) of the ${split} split has no ground truth to copy; the simulated annotator needs gtFine labels.`);

  const splitPixels = inSplit.reduce((sum, i) => sum + i.width * i.height, 0);
  let corrected = inSplit.reduce((sum, i) => sum + i.correctedPixels, 0);
  let regions = 0;
  let skipped = 0;
  let strokes = 0;
  let pixels = 0;
  let relabelled = 0;
  let stopped: SimulationResult['stopped'] = 'queue';
  let buffers: ImageBuffers | null = null;

  /** Copies the ground truth into the region's superpixel; returns the human pixels added. */
  const correct = async (region: Region, image: ImageSummary): Promise<number> => {
    if (buffers?.imageId !== image.id) {
      const ids = await assetBytes(service, { imageId: image.id, roundId, raw: 'superpixels' });
      const superpixels = new Uint16Array(ids.length / 2);
      for (let p = 0; p < superpixels.length; p++) superpixels[p] = ids[2 * p]! | (ids[2 * p + 1]! << 8);
      buffers = { imageId: image.id, gt: await groundTruth(service, image), superpixels };
    }
    const { gt, superpixels } = buffers;
    let state = await service.call('getCorrection', { imageId: image.id });
    // As the editor: a correction with strokes goes on from its own base round, a new one starts from the
    // round the region belongs to, with the model's labels and no human pixels.
    const baseRoundId = state.version > 0 ? state.baseRoundId : roundId;
    const n = image.width * image.height;
    const labels = state.version > 0 ? await assetBytes(service, { imageId: image.id, correction: 'labels' }) : await assetBytes(service, { imageId: image.id, roundId, raw: 'prediction' });
    const human = state.version > 0 ? await assetBytes(service, { imageId: image.id, correction: 'human' }) : new Uint8Array(n);
    // The pixels to set, by class, in index order (the region's box, row by row).
    const byClass = new Map<number, number[]>();
    for (let y = region.y; y < region.y + region.height; y++) {
      for (let i = y * image.width + region.x, end = i + region.width; i < end; i++) {
        const label = gt[i]!;
        if (superpixels[i] !== region.superpixel || label === IGNORE || (labels[i] === label && human[i] === 1)) continue;
        if (labels[i] !== label) relabelled++;
        const list = byClass.get(label);
        if (list) list.push(i);
        else byClass.set(label, [i]);
      }
    }
    const before = state.humanPixels;
    for (const [classId, indices] of [...byClass].sort((a, b) => a[0] - b[0])) {
      const delta = deltaFromIndices(indices, () => classId, () => 1);
      state = await service.call('applyStroke', {
        imageId: image.id, baseRevision: state.revision, baseRoundId, tool: 'brush', classId, delta: bytesToBase64(encodeDelta(delta)), ms: 0,
      });
      strokes++;
    }
    return state.humanPixels - before;
  };

  let region = await service.call('nextRegion', { datasetId, roundId });
  while (region) {
    if (corrected / splitPixels >= budget) {
      stopped = 'budget';
      break;
    }
    const image = images.get(region.imageId);
    if (image?.split === split) {
      const added = await correct(region, image);
      corrected += added;
      pixels += added;
      await service.call('setRegionState', { regionId: region.id, state: 'done' });
      regions++;
    } else {
      await service.call('setRegionState', { regionId: region.id, state: 'skipped' });
      skipped++;
    }
    options.onProgress?.({ regions, share: corrected / splitPixels });
    region = await service.call('nextRegion', { datasetId, roundId, afterRegionId: region.id });
  }
  if (!region && corrected / splitPixels >= budget) stopped = 'budget';

  const splitCorrectedPixels = (await service.call('listImages', { datasetId, split })).reduce((sum, i) => sum + i.correctedPixels, 0);
  return {
    datasetId, roundId, split, budget, regions, skipped, strokes, pixels, relabelled, splitPixels, splitCorrectedPixels,
    share: splitCorrectedPixels / splitPixels,
    meter: await service.call('getBudget', { datasetId }),
    stopped,
  };
}
