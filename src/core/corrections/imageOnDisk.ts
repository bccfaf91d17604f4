// A correction is pixel-aligned with the image as imported; an RGB file replaced by one of another size since
// then would silently misalign it, so every write first re-reads the file's PNG header.
import { UserError } from '../../shared/api';
import { containedPath } from '../datasets/assets';
import { PngError, readPngInfo } from '../datasets/pngHeader';
import type { StoredImage } from '../store/datasetsRepo';

export async function checkImageSizeOnDisk(image: StoredImage): Promise<void> {
  const path = containedPath(image.root, image.rgbPath);
  let info;
  try {
    info = await readPngInfo(path);
  } catch (error) {
    if (error instanceof PngError) throw new UserError(`${path} can no longer be read (${error.message}); import the dataset again.`);
    throw error;
  }
  if (info.width !== image.width || info.height !== image.height) {
    throw new UserError(
      `${path} is now ${info.width}x${info.height} on disk but was ${image.width}x${image.height} when imported; the correction was not saved. Import the dataset again to continue.`,
    );
  }
}
