// One exported label map as a Cityscapes gtFine file: its path inside the export and its PNG bytes.
import sharp from 'sharp';
import type { LabelFormat, Split } from '../../../shared/api';
import { colorizeTrainIdsRgb, trainIdsToLabelIds } from '../../../shared/labels';

const SUFFIX: Record<LabelFormat, string> = {
  labelIds: '_gtFine_labelIds.png',
  trainIds: '_gtFine_labelTrainIds.png',
  color: '_gtFine_color.png',
};

/** `gtFine/<split>/<city>/<stem><suffix>` with forward slashes, as the Cityscapes importer and cityscapesScripts expect. */
export function gtFinePath(image: { split: Split; city: string; name: string }, format: LabelFormat): string {
  return `gtFine/${image.split}/${image.city}/${image.name}${SUFFIX[format]}`;
}

/**
 * PNG bytes of a trainId map (255 = ignore) in `format`: 8-bit grey labelIds (ignore → 0, unlabeled) or trainIds
 * (ignore stays 255), or RGB colours. Encoded by sharp off the main thread.
 */
export async function encodeLabelPng(trainIds: Uint8Array, width: number, height: number, format: LabelFormat): Promise<Buffer> {
  const [pixels, channels] =
    format === 'color' ? [colorizeTrainIdsRgb(trainIds), 3 as const] : [format === 'labelIds' ? trainIdsToLabelIds(trainIds) : trainIds, 1 as const];
  const image = sharp(pixels, { raw: { width, height, channels } });
  // Without b-w sharp writes a one-channel input as RGB.
  return (channels === 1 ? image.toColourspace('b-w') : image).png({ compressionLevel: 6 }).toBuffer();
}
