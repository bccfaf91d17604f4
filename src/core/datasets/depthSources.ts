// The depth sources a dataset folder may hold (CORDA.md §2, DATASETS.md), where each one's files live, and the
// order the import prefers them in when a folder holds several: the reference's choice first. The reference
// (qinenergy/corda, configs/*.json "city_depth") trains on SFSU stereo depth for Cityscapes in its GTA and
// SYNTHIA-stereo runs and on its monocular disparity only in the SYNTHIA-mono run; it never uses the official
// SGM disparity.
import { join } from 'node:path';
import type { DatasetKind, DepthSource } from '../../shared/api';

/** What names an image's companion files: split, city and stem (Cityscapes) or the image's file name. */
export interface ImageKey {
  split: string;
  city: string;
  stem: string;
  file: string;
}

export interface DepthSourceSpec {
  source: DepthSource;
  /** Folders, relative to the dataset root, that may hold this source; the first that exists is used. */
  dirs: readonly string[];
  /** The depth file of an image, relative to the source's folder. */
  fileOf: (image: ImageKey) => string;
  /** Whether each depth file needs the image's camera file (disparity → depth). */
  needsCamera: boolean;
  /** The files, for messages. */
  describes: string;
}

const cityscapesFile = (suffix: string) => (i: ImageKey) => join(i.split, i.city, `${i.stem}${suffix}`);
const sameName = (i: ImageKey) => i.file;
const DISPARITY_DIRS = ['disparity', 'disparity_trainvaltest/disparity'];

/** Per kind, the sources in the order the import prefers them. */
export const DEPTH_SOURCES: Record<DatasetKind, readonly DepthSourceSpec[]> = {
  cityscapes: [
    {
      source: 'stereo',
      dirs: ['depth'],
      fileOf: cityscapesFile('_depth_stereoscopic.mat'),
      needsCamera: false,
      describes: 'SFSU stereo depth (depth/<split>/<city>/<stem>_depth_stereoscopic.mat)',
    },
    {
      source: 'mono',
      dirs: DISPARITY_DIRS,
      fileOf: cityscapesFile('_leftImg8bit.png'),
      needsCamera: false,
      describes: 'monocular disparity (disparity/<split>/<city>/<stem>_leftImg8bit.png)',
    },
    {
      source: 'sgm',
      dirs: DISPARITY_DIRS,
      fileOf: cityscapesFile('_disparity.png'),
      needsCamera: true,
      describes: 'official SGM disparity (disparity/<split>/<city>/<stem>_disparity.png with camera/)',
    },
  ],
  gta5: [{ source: 'mono', dirs: ['disparity'], fileOf: sameName, needsCamera: false, describes: 'monocular disparity (disparity/<name>.png)' }],
  synthia: [{ source: 'simulator', dirs: ['Depth/Depth'], fileOf: sameName, needsCamera: false, describes: 'simulator depth (Depth/Depth/<name>.png)' }],
};

/** A source whose folder exists in a detected dataset. */
export interface DepthOption {
  source: DepthSource;
  dir: string;
}

/** The specification of `source` for `kind`; undefined when that kind never holds it. */
export function depthSourceSpec(kind: DatasetKind, source: DepthSource): DepthSourceSpec | undefined {
  return DEPTH_SOURCES[kind].find((s) => s.source === source);
}
