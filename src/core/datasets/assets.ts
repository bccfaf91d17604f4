// Files the renderer may display, resolved by image id only: the RGB image (inside its dataset root, checked
// for containment), and derived files cached in the project (thumbnails, ground-truth overlays, depth).
import { existsSync, mkdirSync, realpathSync, renameSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { MAX_IMAGE_PIXELS, UserError, type ImageVariant } from '../../shared/api';
import { colorizeTrainIds } from '../../shared/labels';
import type { StoredImage } from '../store/datasetsRepo';
import { renderDepth } from './depthImage';
import { readTrainIdsOffThread } from './labelsOffThread';

export const THUMB_WIDTH = 256;

/** A file to stream, or bytes rendered in memory. */
export type Asset = { path: string; mime: string } | { data: Buffer; mime: string };

/** Resolves a stored relative path inside a dataset root; refuses anything that escapes it (.., symlinks). */
export function containedPath(root: string, relativePath: string): string {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new UserError(`The dataset folder ${root} is missing (moved, deleted or unmounted); restore it or import the dataset again.`);
  }
  const candidate = resolve(realRoot, relativePath);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new UserError(`${candidate} is missing: the dataset changed on disk since it was imported. Import the folder again.`);
  }
  if (!real.startsWith(realRoot + sep)) throw new UserError('Refused: that file lies outside the dataset folder.');
  // A folder, a FIFO or a device in its place (or a symlink to one) would fail or block whoever reads it.
  if (!statSync(real).isFile()) {
    throw new UserError(`${candidate} is not a regular file any more: the dataset changed on disk since it was imported. Import the folder again.`);
  }
  return real;
}

/**
 * Reads a dataset file with `read`; a file that fails to decode (changed, truncated or replaced on disk since the
 * import) becomes one sentence naming it instead of the decoder's own message.
 */
export async function readDatasetFile<T>(file: string, read: (file: string) => Promise<T>): Promise<T> {
  try {
    return await read(file);
  } catch (error) {
    const advice = 'it changed on disk since the dataset was imported: restore it or import the folder again.';
    // A decoder's own sentence (labelsIO) says what is wrong; the advice says what to do.
    if (error instanceof UserError) throw /import the (folder|dataset) again/.test(error.message) ? error : new UserError(`${error.message.replace(/\.$/, '')}; ${advice}`);
    throw new UserError(`${file} cannot be read (${(error as Error).message.replace(/\.$/, '')}); ${advice}`);
  }
}

async function writeAtomic(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, data);
  renameSync(tmp, path);
}

export class AssetCache {
  private readonly inFlight = new Map<string, Promise<{ path: string; mime: string }>>();

  constructor(private readonly cacheDir: string) {}

  async get(image: StoredImage, variant: ImageVariant): Promise<{ path: string; mime: string }> {
    if (variant === 'rgb') return { path: containedPath(image.root, image.rgbPath), mime: 'image/png' };
    if (variant === 'thumb') return this.cached(`thumbs/${image.id}-${image.rgbStamp}.jpg`, 'image/jpeg', () => renderThumb(image));
    if (variant === 'depth') {
      if (!image.depthPath) throw new UserError(`Image ${image.id} has no depth to show.`);
      const depthFile = containedPath(image.root, image.depthPath);
      const cameraFile = image.cameraPath && containedPath(image.root, image.cameraPath);
      const s = statSync(depthFile);
      return this.cached(`depth/${image.id}-${s.size}-${Math.round(s.mtimeMs)}.png`, 'image/png', () => renderDepth(image.kind, depthFile, cameraFile));
    }
    if (!image.labelPath) throw new UserError(`Image ${image.id} has no ground truth to overlay.`);
    const labelFile = containedPath(image.root, image.labelPath);
    const s = statSync(labelFile);
    return this.cached(`overlays/${image.id}-${s.size}-${Math.round(s.mtimeMs)}.png`, 'image/png', () => renderOverlay(image, labelFile));
  }

  private cached(relative: string, mime: string, render: () => Promise<Buffer>): Promise<{ path: string; mime: string }> {
    const path = join(this.cacheDir, relative);
    if (existsSync(path)) return Promise.resolve({ path, mime });
    let pending = this.inFlight.get(path);
    if (!pending) {
      pending = (async () => {
        mkdirSync(join(path, '..'), { recursive: true });
        await writeAtomic(path, await render());
        return { path, mime };
      })().finally(() => this.inFlight.delete(path));
      this.inFlight.set(path, pending);
    }
    return pending;
  }
}

function renderThumb(image: StoredImage): Promise<Buffer> {
  return sharp(containedPath(image.root, image.rgbPath), { limitInputPixels: MAX_IMAGE_PIXELS })
    .resize({ width: THUMB_WIDTH, withoutEnlargement: true })
    .jpeg({ quality: 78 })
    .toBuffer();
}

async function renderOverlay(image: StoredImage, labelFile: string): Promise<Buffer> {
  const map = await readTrainIdsOffThread(labelFile, image.kind);
  const rgba = colorizeTrainIds(map.data);
  return sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), {
    raw: { width: map.width, height: map.height, channels: 4 },
  })
    .png({ compressionLevel: 6 })
    .toBuffer();
}
