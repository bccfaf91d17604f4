// The correction methods of the API contract (getCorrection, applyStroke, undoStroke, redoStroke, getBudget) and
// the `image/<id>/correction/<labels|human>` asset, on top of strokes.ts and budget.ts.
import { UserError, type CorrectionRaw, type MethodOutput, type Methods } from '../../shared/api';
import { base64ToBytes, bytesToBase64 } from '../../shared/labelDelta';
import type { z } from 'zod';
import type { Db } from '../store/db';
import type { StoredImage } from '../store/datasetsRepo';
import { readCorrection } from '../store/correctionsRepo';
import { correctionBudget } from './budget';
import { checkImageSizeOnDisk } from './imageOnDisk';
import { applyStroke, getCorrectionState, redoStroke, undoStroke } from './strokes';

type Handler<M extends keyof Methods> = (input: z.infer<Methods[M]['input']>) => Promise<MethodOutput<M>>;

export interface CorrectionHandlers {
  getCorrection: Handler<'getCorrection'>;
  applyStroke: Handler<'applyStroke'>;
  undoStroke: Handler<'undoStroke'>;
  redoStroke: Handler<'redoStroke'>;
  getBudget: Handler<'getBudget'>;
  asset(image: StoredImage, which: CorrectionRaw): { data: Buffer; mime: string };
}

export function correctionHandlers(
  db: Db,
  requireImage: (imageId: number) => StoredImage,
  requireDataset: (datasetId: number) => unknown,
): CorrectionHandlers {
  // Writes to one image run one after another in arrival order: the size check on disk is asynchronous, and a
  // client sending stroke n+1 before stroke n's reply must not see n+1 reach the database first.
  const queues = new Map<number, Promise<unknown>>();
  const serial = <T>(imageId: number, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(imageId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    queues.set(imageId, settled);
    void settled.then(() => queues.get(imageId) === settled && queues.delete(imageId));
    return next;
  };
  const write = <T>(imageId: number, work: (image: StoredImage) => T): Promise<T> =>
    serial(imageId, async () => {
      const image = requireImage(imageId);
      await checkImageSizeOnDisk(image);
      return work(image);
    });
  const asText = ({ state, delta }: { state: MethodOutput<'getCorrection'>; delta: Uint8Array }) => ({ state, delta: bytesToBase64(delta) });

  return {
    getCorrection: async ({ imageId }) => getCorrectionState(db, requireImage(imageId)),
    applyStroke: ({ imageId, delta, ...stroke }) => write(imageId, (image) => applyStroke(db, image, { ...stroke, delta: base64ToBytes(delta) })),
    undoStroke: ({ imageId, baseRevision }) => write(imageId, (image) => asText(undoStroke(db, image, baseRevision))),
    redoStroke: ({ imageId, baseRevision }) => write(imageId, (image) => asText(redoStroke(db, image, baseRevision))),
    getBudget: async ({ datasetId }) => {
      requireDataset(datasetId);
      return correctionBudget(db, datasetId);
    },
    asset(image, which) {
      const planes = readCorrection(db, image.id);
      if (!planes) throw new UserError(`Image ${image.id} has no correction yet.`);
      const bytes = which === 'labels' ? planes.labels : planes.human;
      return { data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), mime: 'application/octet-stream' };
    },
  };
}
