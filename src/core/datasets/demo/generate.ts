// The procedural demo dataset: GTA5-, Cityscapes- and (optionally) SYNTHIA-shaped folders filled with synthetic
// street scenes. The domains share one geometry generator (scene.ts) and differ in appearance (render.ts), so a
// model trained on the source does worse on the target while depth carries across. Deterministic: the same
// options give byte-identical files. Image i of a domain depends only on (seed, domain, i), not on `images`.

import { join, resolve } from 'node:path';
import { LABEL_ID_TO_TRAIN_ID, SYNTHIA_TO_TRAIN } from '../../../shared/labels';
import { writeFileAtomic, writeGrayPng, writeRgb16Png, writeRgbPng } from './png';
import { hashSeed, Rng } from '../../random';
import { MAX_DEPTH_M, renderScene, SOURCE_STYLE, TARGET_STYLE, type RenderedImage, type Style } from './render';
import { generateScene, type Camera } from './scene';

export interface DemoOptions {
  /** Images per domain. */
  images: number;
  width: number;
  height: number;
  seed: number;
  synthia?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface DemoResult {
  gta5: string;
  cityscapes: string;
  synthia?: string;
  counts: { gta5: number; cityscapes: { train: number; val: number; test: number }; synthia: number };
}

export const DEMO_DEFAULTS = { images: 24, width: 512, height: 256, seed: 1 };

/** Cityscapes stereo baseline in metres (camera json). */
export const CITYSCAPES_BASELINE = 0.209313;

const DOMAIN = { gta5: 1, cityscapes: 2, synthia: 3 } as const;

export type CityscapesSplit = 'train' | 'val' | 'test';

export interface CityscapesEntry {
  split: CityscapesSplit;
  city: string;
  stem: string;
}

/** Split and name the n Cityscapes images: ~60 % train (aachen, bochum), ~20 % val (frankfurt), ~20 % test (berlin). */
export function cityscapesLayout(n: number): CityscapesEntry[] {
  let nVal: number;
  let nTest: number;
  if (n >= 3) {
    nVal = Math.max(1, Math.round(n * 0.2));
    nTest = Math.max(1, Math.round(n * 0.2));
  } else {
    nVal = n - 1 > 0 ? 1 : 0;
    nTest = 0;
  }
  const nTrain = n - nVal - nTest;
  const seq = new Map<string, number>();
  const entries: CityscapesEntry[] = [];
  for (let i = 0; i < n; i++) {
    const split: CityscapesSplit = i < nTrain ? 'train' : i < nTrain + nVal ? 'val' : 'test';
    const city = split === 'train' ? (i < Math.ceil(nTrain / 2) ? 'aachen' : 'bochum') : split === 'val' ? 'frankfurt' : 'berlin';
    const k = seq.get(city) ?? 0;
    seq.set(city, k + 1);
    entries.push({ split, city, stem: `${city}_${String(k).padStart(6, '0')}_000019` });
  }
  return entries;
}

// ------------------------------------------------------------------------------------------------------------
// depth encodings (CORDA.md §2)

function isValidDepth(d: number): boolean {
  return d > 0.1 && d <= MAX_DEPTH_M;
}

/** The inverse-depth-like regression target for a metric depth (1.0 would mean invalid). */
export function depthToTarget(depthM: number): number {
  return 655.36 / (depthM + 0.01);
}

/** Monodepth2-style normalised disparity (GTA5 in CorDA): raw = (target - 1) * 256, 0 = invalid. */
export function encodeMonodepthDisparity(depth: Float32Array): Uint16Array {
  const out = new Uint16Array(depth.length);
  for (let i = 0; i < depth.length; i++) {
    const d = depth[i]!;
    if (!isValidDepth(d)) continue;
    const raw = Math.round((depthToTarget(d) - 1) * 256);
    out[i] = raw < 1 ? 1 : raw > 65535 ? 65535 : raw;
  }
  return out;
}

/** Cityscapes SGM disparity: p = disparity_px * 256 + 1, 0 = invalid; disparity = baseline * fx / depth. */
export function encodeCityscapesDisparity(depth: Float32Array, baseline: number, fx: number): Uint16Array {
  const out = new Uint16Array(depth.length);
  const bf = baseline * fx;
  for (let i = 0; i < depth.length; i++) {
    const d = depth[i]!;
    if (!isValidDepth(d)) continue;
    const p = Math.round((bf / d) * 256 + 1);
    out[i] = p < 2 ? 2 : p > 65535 ? 65535 : p;
  }
  return out;
}

/** SYNTHIA depth: uint16 centimetres, 65535 = far / invalid. */
export function encodeSynthiaDepth(depth: Float32Array): Uint16Array {
  const out = new Uint16Array(depth.length).fill(65535);
  for (let i = 0; i < depth.length; i++) {
    const d = depth[i]!;
    if (!isValidDepth(d)) continue;
    const cm = Math.round(d * 100);
    out[i] = cm < 1 ? 1 : cm > 65534 ? 65534 : cm;
  }
  return out;
}

/** trainId → SYNTHIA class id (the inverse of SYNTHIA_TO_TRAIN); unmapped → 0 (void). */
const TRAIN_TO_SYNTHIA: Uint16Array = (() => {
  const lut = new Uint16Array(256);
  for (const [synthiaId, trainId] of Object.entries(SYNTHIA_TO_TRAIN)) lut[trainId] = Number(synthiaId);
  return lut;
})();

/** SYNTHIA GT/LABELS layout: 16-bit, 3 channels, class id in the first channel, the others 0. */
export function labelIdsToSynthiaLabels(labelIds: Uint8Array): Uint16Array {
  const out = new Uint16Array(labelIds.length * 3);
  for (let i = 0; i < labelIds.length; i++) out[i * 3] = TRAIN_TO_SYNTHIA[LABEL_ID_TO_TRAIN_ID[labelIds[i]!]!]!;
  return out;
}

function cameraJson(cam: Camera): string {
  const json = {
    extrinsic: { baseline: CITYSCAPES_BASELINE, pitch: 0, roll: 0, x: 1.7, y: 0.1, yaw: 0, z: round(cam.camHeight, 4) },
    intrinsic: { fx: round(cam.f, 4), fy: round(cam.f, 4), u0: round(cam.u0, 4), v0: round(cam.v0, 4) },
  };
  return `${JSON.stringify(json, null, 4)}\n`;
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

// ------------------------------------------------------------------------------------------------------------

interface Job {
  domain: number;
  index: number;
  style: Style;
  egoHood: boolean;
  write: (image: RenderedImage, camera: Camera) => Promise<unknown>;
}

/**
 * Camera used to render an image: cityscapes' camera json must describe the camera that rendered the image,
 * and its v0 is the horizon row (the scene has no pitch).
 */
function renderJob(job: Job, seed: number, width: number, height: number): { image: RenderedImage; camera: Camera } {
  const scene = generateScene(new Rng(hashSeed(seed, job.domain, job.index)), width, height);
  const image = renderScene(scene, { style: job.style, egoHood: job.egoHood, seed: hashSeed(seed, job.domain, job.index, 99) });
  return { image, camera: scene.camera };
}

export async function generateDemoData(outDir: string, options: DemoOptions): Promise<DemoResult> {
  const { images, width, height, seed } = options;
  if (!Number.isInteger(images) || images < 0) throw new Error(`demo data: images must be a non-negative integer, got ${images}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16 || width > 8192 || height > 8192) {
    throw new Error(`demo data: width and height must be integers in 16..8192, got ${width}x${height}`);
  }
  if (!Number.isFinite(seed)) throw new Error(`demo data: seed must be a number, got ${seed}`);
  const root = resolve(outDir);
  const gta5 = join(root, 'gta5');
  const cityscapes = join(root, 'cityscapes');
  const synthia = join(root, 'synthia');

  const jobs: Job[] = [];
  for (let i = 0; i < images; i++) {
    const name = `${String(i + 1).padStart(5, '0')}.png`;
    jobs.push({
      domain: DOMAIN.gta5,
      index: i,
      style: SOURCE_STYLE,
      egoHood: false,
      write: (img) =>
        Promise.all([
          writeRgbPng(join(gta5, 'images', name), img.rgb, width, height),
          writeGrayPng(join(gta5, 'labels', name), img.labelIds, width, height),
          writeGrayPng(join(gta5, 'disparity', name), encodeMonodepthDisparity(img.depth), width, height),
        ]),
    });
  }
  const layout = cityscapesLayout(images);
  layout.forEach((entry, i) => {
    const dir = (kind: string): string => join(cityscapes, kind, entry.split, entry.city);
    jobs.push({
      domain: DOMAIN.cityscapes,
      index: i,
      style: TARGET_STYLE,
      egoHood: true,
      write: (img, cam) =>
        Promise.all([
          writeRgbPng(join(dir('leftImg8bit'), `${entry.stem}_leftImg8bit.png`), img.rgb, width, height),
          writeGrayPng(
            join(dir('gtFine'), `${entry.stem}_gtFine_labelIds.png`),
            entry.split === 'test' ? new Uint8Array(width * height) : img.labelIds,
            width,
            height,
          ),
          writeGrayPng(
            join(dir('disparity'), `${entry.stem}_disparity.png`),
            encodeCityscapesDisparity(img.depth, CITYSCAPES_BASELINE, cam.f),
            width,
            height,
          ),
          writeFileAtomic(join(dir('camera'), `${entry.stem}_camera.json`), cameraJson(cam)),
        ]),
    });
  });
  if (options.synthia) {
    for (let i = 0; i < images; i++) {
      const name = `${String(i).padStart(7, '0')}.png`;
      jobs.push({
        domain: DOMAIN.synthia,
        index: i,
        style: SOURCE_STYLE,
        egoHood: false,
        write: (img) =>
          Promise.all([
            writeRgbPng(join(synthia, 'RGB', name), img.rgb, width, height),
            writeRgb16Png(join(synthia, 'GT', 'LABELS', name), labelIdsToSynthiaLabels(img.labelIds), width, height),
            writeGrayPng(join(synthia, 'Depth', 'Depth', name), encodeSynthiaDepth(img.depth), width, height),
          ]),
      });
    }
  }

  // Render image k while image k-1 is still being encoded by sharp on the thread pool.
  const total = jobs.length;
  let done = 0;
  let pending: Promise<unknown> | null = null;
  const report = (): void => {
    done++;
    options.onProgress?.(done, total);
  };
  for (const job of jobs) {
    const { image, camera } = renderJob(job, seed, width, height);
    if (pending) {
      await pending;
      report();
    }
    pending = job.write(image, camera);
  }
  if (pending) {
    await pending;
    report();
  }

  const counts = {
    gta5: images,
    cityscapes: {
      train: layout.filter((e) => e.split === 'train').length,
      val: layout.filter((e) => e.split === 'val').length,
      test: layout.filter((e) => e.split === 'test').length,
    },
    synthia: options.synthia ? images : 0,
  };
  return { gta5, cityscapes, ...(options.synthia ? { synthia } : {}), counts };
}
