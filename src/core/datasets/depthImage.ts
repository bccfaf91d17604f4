// An image's own depth (stereo disparity, a simulator's depth or pseudo depth) as a grey PNG for display,
// drawn like the round's depth heads (adapt/layerImages.ts): near = bright, the 99th percentile white.
import { encode } from 'fast-png';
import type { DatasetKind } from '../../shared/api';
import { INVALID_DEPTH, readDepthTarget, type DepthMap } from './depthIO';

/** Depth targets (inverse-depth-like, large = near) → grey levels; unknown depth is black. */
export function depthToGrey(map: DepthMap): Uint8Array {
  const valid = map.data.filter((v) => v !== INVALID_DEPTH).sort();
  const top = valid.length ? Math.max(Number.EPSILON, valid[Math.min(valid.length - 1, Math.floor(valid.length * 0.99))]!) : 1;
  return Uint8Array.from(map.data, (v) => (v === INVALID_DEPTH ? 0 : Math.min(255, Math.round((v / top) * 255))));
}

export async function renderDepth(kind: DatasetKind, depthFile: string, cameraFile: string | null): Promise<Buffer> {
  const map = await readDepthTarget(kind, depthFile, cameraFile);
  return Buffer.from(encode({ width: map.width, height: map.height, data: depthToGrey(map), channels: 1, depth: 8 }));
}
