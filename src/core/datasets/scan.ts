// Lists every image of a detected dataset with its split, city, size and companion files, reading only PNG
// headers. Bad files become problems; the rest is returned.
import { readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { UserError, type DepthChoice, type DepthSource, type ImportProblem, type Split } from '../../shared/api';
import type { ImageWrite } from '../store/datasetsRepo';
import type { Detected } from './detect';
import { DEPTH_SOURCES, depthSourceSpec, type ImageKey } from './depthSources';
import { readMatHeader } from './matHeader';
import { fileKind, readPngInfo, type PngInfo } from './pngHeader';

export interface ScanResult {
  images: ImageWrite[];
  problems: ImportProblem[];
  /** The depth source taken (see depthSources.ts); null when the folder holds none or `none` was asked for. */
  depthSource: DepthSource | null;
}

export interface ScanOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  concurrency?: number;
  /** The depth source to take; by default the first the folder holds in the reference's order. */
  depth?: DepthChoice;
}

interface DepthFiles {
  source: DepthSource;
  depth: string;
  camera: string | null;
}

interface Candidate {
  split: Split;
  city: string;
  name: string;
  rgb: string;
  label: string | null;
  /** Each available source's files for this image; the chosen one's are copied to depth and camera. */
  depthFiles: DepthFiles[];
  depth: string | null;
  camera: string | null;
  /** Whether a missing label file is a problem (GTA5/SYNTHIA pairs) or normal (Cityscapes test, dash-cam). */
  labelRequired: boolean;
}

const SPLITS: readonly Split[] = ['train', 'val', 'test'];

/** A folder's entries, sorted; [] when it is missing. One that exists but cannot be read becomes a problem. */
async function listDir(dir: string, problems?: ImportProblem[], relativeDir?: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (problems && relativeDir && code !== 'ENOENT' && code !== 'ENOTDIR') {
      problems.push({ file: relativeDir, error: `skipped: the folder cannot be read (${code ?? (error as Error).message})` });
    }
    return [];
  }
}

/** Images beyond this many pixels are not imported: sharp refuses to decode them (its limitInputPixels default). */
export const MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Refuses a companion file that is not a regular file (a FIFO would block its reader forever). */
async function checkRegular(path: string): Promise<void> {
  const s = await stat(path);
  if (!s.isFile()) throw new Error(`not a regular file (${fileKind(s)})`);
}

/** The files each of the folder's depth sources would give the image `key`. */
function depthFilesOf(d: Detected, key: ImageKey): DepthFiles[] {
  return d.depthOptions.map(({ source, dir }) => {
    const spec = depthSourceSpec(d.kind, source)!;
    const camera = spec.needsCamera ? join(d.layout.cameraDir ?? 'camera', key.split, key.city, `${key.stem}_camera.json`) : null;
    return { source, depth: join(dir, spec.fileOf(key)), camera };
  });
}

async function cityscapesCandidates(d: Detected, problems: ImportProblem[]): Promise<Candidate[]> {
  const { root, layout } = d;
  const out: Candidate[] = [];
  for (const entry of await listDir(join(root, layout.rgbDir), problems, layout.rgbDir)) {
    if (!(SPLITS as readonly string[]).includes(entry)) {
      problems.push({ file: join(layout.rgbDir, entry), error: 'skipped: not one of the splits train, val, test' });
      continue;
    }
    const split = entry as Split;
    for (const city of await listDir(join(root, layout.rgbDir, split), problems, join(layout.rgbDir, split))) {
      for (const file of await listDir(join(root, layout.rgbDir, split, city), problems, join(layout.rgbDir, split, city))) {
        if (!file.endsWith('_leftImg8bit.png')) continue;
        const stem = file.slice(0, -'_leftImg8bit.png'.length);
        const at = (dir: string | null, suffix: string) => (dir ? join(dir, split, city, `${stem}${suffix}`) : null);
        out.push({
          split,
          city,
          name: stem,
          rgb: join(layout.rgbDir, split, city, file),
          // Cityscapes test labels are all zero: there is no ground truth to use.
          label: split === 'test' ? null : at(layout.labelDir, '_gtFine_labelIds.png'),
          depthFiles: depthFilesOf(d, { split, city, stem, file }),
          depth: null,
          camera: null,
          labelRequired: false,
        });
      }
    }
  }
  return out;
}

async function pairedCandidates(d: Detected, city: string, problems: ImportProblem[]): Promise<Candidate[]> {
  const { layout } = d;
  const files = (await listDir(join(d.root, layout.rgbDir), problems, layout.rgbDir)).filter((f) => f.toLowerCase().endsWith('.png'));
  return files.map((file) => ({
    split: 'train' as const,
    city,
    name: file.slice(0, -4),
    rgb: join(layout.rgbDir, file),
    label: layout.labelDir ? join(layout.labelDir, file) : null,
    depthFiles: depthFilesOf(d, { split: 'train', city, stem: file.slice(0, -4), file }),
    depth: null,
    camera: null,
    labelRequired: true,
  }));
}

const sizeText = (i: PngInfo): string => `${i.width}x${i.height}`;

async function checkCandidate(d: Detected, c: Candidate, problems: ImportProblem[]): Promise<ImageWrite | null> {
  const abs = (p: string) => join(d.root, p);
  let rgb: PngInfo;
  let rgbStamp: string;
  try {
    rgb = await readPngInfo(abs(c.rgb));
    if (rgb.channels < 3 && rgb.colorType !== 3) throw new Error(`expected a colour image, found ${rgb.channels} channel(s)`);
    if (rgb.width * rgb.height > MAX_IMAGE_PIXELS) {
      throw new Error(`skipped: ${sizeText(rgb)} is ${Math.round((rgb.width * rgb.height) / 1e6)} million pixels, over the limit of ${Math.round(MAX_IMAGE_PIXELS / 1e6)} million`);
    }
    const s = await stat(abs(c.rgb));
    rgbStamp = `${s.size}-${Math.round(s.mtimeMs)}`;
  } catch (error) {
    problems.push({ file: c.rgb, error: (error as Error).message });
    return null;
  }

  let labelPath: string | null = null;
  if (c.label) {
    if (!(await exists(abs(c.label)))) {
      if (c.labelRequired) problems.push({ file: c.label, error: 'missing: the image is imported without labels' });
    } else {
      try {
        const label = await readPngInfo(abs(c.label));
        if (label.width !== rgb.width || label.height !== rgb.height) {
          throw new Error(`size mismatch: label is ${sizeText(label)} but the image is ${sizeText(rgb)}`);
        }
        labelPath = c.label;
      } catch (error) {
        problems.push({ file: c.label, error: `${(error as Error).message}; the image is imported without labels` });
      }
    }
  }

  let depthPath: string | null = null;
  if (c.depth && (await exists(abs(c.depth)))) {
    try {
      if (c.depth.endsWith('.mat')) {
        await checkRegular(abs(c.depth));
        await readMatHeader(abs(c.depth), 'the file').catch((error: Error) => Promise.reject(new Error(error.message.replace(/\.$/, ''))));
      } else {
        const depth = await readPngInfo(abs(c.depth));
        if (depth.bitDepth !== 16) throw new Error(`expected a 16-bit depth PNG, found ${depth.bitDepth}-bit`);
      }
      if (c.camera && !(await exists(abs(c.camera)))) throw new Error('the camera file needed to turn disparity into depth is missing');
      if (c.camera) await checkRegular(abs(c.camera)).catch((error: Error) => Promise.reject(new Error(`the camera file is ${error.message}`)));
      depthPath = c.depth;
    } catch (error) {
      problems.push({ file: c.depth, error: `${(error as Error).message}; the image is imported without depth` });
    }
  }

  return {
    split: c.split,
    city: c.city,
    name: c.name,
    rgbPath: c.rgb,
    labelPath,
    depthPath,
    cameraPath: depthPath ? c.camera : null,
    width: rgb.width,
    height: rgb.height,
    rgbStamp,
  };
}

/** Whether any candidate has its file of `source`: a source's folder may exist and hold another source's files. */
async function holdsSource(candidates: Candidate[], source: DepthSource, root: string): Promise<boolean> {
  for (const c of candidates) {
    const files = c.depthFiles.find((f) => f.source === source);
    if (files && (await exists(join(root, files.depth)))) return true;
  }
  return false;
}

/** The asked-for source, or the first the folder holds in the reference's order; a UserError when it holds none asked for. */
async function chooseDepthSource(d: Detected, candidates: Candidate[], choice: DepthChoice | undefined): Promise<DepthSource | null> {
  if (choice === 'none') return null;
  if (choice === undefined) {
    for (const { source } of d.depthOptions) if (await holdsSource(candidates, source, d.root)) return source;
    return null;
  }
  const spec = depthSourceSpec(d.kind, choice);
  if (!spec) throw new UserError(`A ${d.kind} folder has no ${choice} depth; --depth takes ${depthChoicesText(d)} for it.`);
  if (!(await holdsSource(candidates, choice, d.root))) {
    const held: string[] = [];
    for (const { source } of d.depthOptions) if (await holdsSource(candidates, source, d.root)) held.push(source);
    const has = held.length ? `it holds ${held.join(' and ')} depth` : 'it holds no depth files';
    throw new UserError(`${d.root} holds no ${spec.describes} for its images: ${has}; pick ${held.length === 1 ? 'it' : 'one of those'} with --depth, or none.`);
  }
  return choice;
}

function depthChoicesText(d: Detected): string {
  return [...DEPTH_SOURCES[d.kind].map((s) => s.source), 'none'].join(', ');
}

export async function scanDataset(d: Detected, options: ScanOptions = {}): Promise<ScanResult> {
  const problems: ImportProblem[] = [];
  const candidates =
    d.kind === 'cityscapes' ? await cityscapesCandidates(d, problems) : await pairedCandidates(d, d.kind, problems);
  const depthSource = await chooseDepthSource(d, candidates, options.depth);
  for (const c of candidates) {
    const files = c.depthFiles.find((f) => f.source === depthSource);
    c.depth = files?.depth ?? null;
    c.camera = files?.camera ?? null;
  }
  const results: (ImageWrite | null)[] = new Array(candidates.length).fill(null);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < candidates.length) {
      options.signal?.throwIfAborted();
      const index = next++;
      results[index] = await checkCandidate(d, candidates[index]!, problems);
      done++;
      if (done % 50 === 0 || done === candidates.length) options.onProgress?.(done, candidates.length);
    }
  };
  options.onProgress?.(0, candidates.length);
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  problems.sort((a, b) => a.file.localeCompare(b.file));
  return { images: results.filter((r): r is ImageWrite => r !== null), problems, depthSource };
}

/** Paths stored in the database use forward slashes on every OS. */
export function toStoredPath(path: string): string {
  return path.split(sep).join('/');
}
