// Depth files → the regression target of CORDA.md §2: an inverse-depth-like value where 1.0 means invalid.
import { readFile } from 'node:fs/promises';
import { decode } from 'fast-png';
import { UserError, type DatasetKind } from '../../shared/api';
import { readMatVariable } from './matV5';

export const INVALID_DEPTH = 1;

export interface DepthMap {
  width: number;
  height: number;
  /** Target values; INVALID_DEPTH where unknown. */
  data: Float32Array;
}

/** Stereo depth in metres → target: 655.36 / (depth + 0.01), depth clipped to [0, 655.35], < 0.1 m invalid. */
export function metresToTarget(depthM: number): number {
  if (!(depthM >= 0.1) || !Number.isFinite(depthM)) return INVALID_DEPTH;
  return 655.36 / (Math.min(depthM, 655.35) + 0.01);
}

export interface CameraJson {
  extrinsic: { baseline: number };
  intrinsic: { fx: number };
}

/** Cityscapes SGM disparity PNG: d = (p − 1) / 256 px for p > 0; depth = baseline · fx / d. */
export function cityscapesDisparityToTarget(raw: Uint16Array, camera: CameraJson): Float32Array {
  const { baseline } = camera.extrinsic;
  const { fx } = camera.intrinsic;
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const p = raw[i]!;
    const disparity = (p - 1) / 256;
    out[i] = p > 0 && disparity > 0 ? metresToTarget((baseline * fx) / disparity) : INVALID_DEPTH;
  }
  return out;
}

/** Monodepth2-style normalised disparity (GTA5 in CorDA, or depth attached to a target set): raw / 256 + 1. */
export function monodepthToTarget(raw: Uint16Array): Float32Array {
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i]! / 256 + 1;
  return out;
}

/** SYNTHIA depth in cm: 65536 / (raw + 1); 65535 (far) gives exactly 1 = invalid. */
export function synthiaDepthToTarget(raw: Uint16Array): Float32Array {
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = 65536 / (raw[i]! + 1);
  return out;
}

function firstChannel16(png: Uint8Array, file: string): { width: number; height: number; raw: Uint16Array } {
  const img = decode(png);
  if (img.depth !== 16) throw new UserError(`${file} is a ${img.depth}-bit PNG; depth files must be 16-bit.`);
  const { width, height, channels } = img;
  const data = img.data as Uint16Array;
  if (channels === 1) return { width, height, raw: data };
  const raw = new Uint16Array(width * height);
  for (let i = 0; i < raw.length; i++) raw[i] = data[i * channels]!;
  return { width, height, raw };
}

/** SFSU stereo depth for Cityscapes (CorDA's depth/ folder): a MAT-file whose `depth_map` holds metres. */
export function stereoMatToTarget(mat: Uint8Array, file: string): DepthMap {
  const { dims, data } = readMatVariable(mat, 'depth_map', file);
  if (dims.length !== 2) throw new UserError(`${file}: depth_map is ${dims.join('x')}, not a 2-D depth map.`);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = metresToTarget(data[i]!);
  return { width: dims[1]!, height: dims[0]!, data: out };
}

/**
 * Reads an image's depth file as a target map. The file tells the source (depthSources.ts): a .mat is stereo depth
 * in metres, a Cityscapes disparity with a camera file is SGM, SYNTHIA's is simulator depth, any other monocular.
 */
export async function readDepthTarget(kind: DatasetKind, depthFile: string, cameraFile: string | null): Promise<DepthMap> {
  if (depthFile.toLowerCase().endsWith('.mat')) return stereoMatToTarget(await readFile(depthFile), depthFile);
  const { width, height, raw } = firstChannel16(await readFile(depthFile), depthFile);
  if (kind === 'synthia') return { width, height, data: synthiaDepthToTarget(raw) };
  if (kind === 'cityscapes' && cameraFile) {
    const camera = JSON.parse(await readFile(cameraFile, 'utf8')) as CameraJson;
    if (!camera?.extrinsic?.baseline || !camera?.intrinsic?.fx) throw new UserError(`${cameraFile} lacks extrinsic.baseline or intrinsic.fx.`);
    return { width, height, data: cityscapesDisparityToTarget(raw, camera) };
  }
  return { width, height, data: monodepthToTarget(raw) };
}
