// A toy street crop for engine tests: sky above, road below, a "car" block shifted by `shift`, depth growing
// towards the horizon (sky depth 1, the invalid code). `texture` adds a little deterministic pattern.
import { Rng } from '../random';
import type { Crop } from './data';

export function toyCrop(width: number, height: number, shift: number, tint: number, texture = false): Crop {
  const rgb = new Float32Array(width * height * 3);
  const labels = new Uint8Array(width * height);
  const depth = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const car = y > 18 && y < 26 && x > 10 + shift && x < 24 + shift;
      const cls = y < 12 ? 10 : car ? 13 : 0;
      labels[i] = cls;
      const colour = cls === 10 ? [90, 140, 200] : cls === 13 ? [20, 20, 160] : [120, 110, 120];
      const grain = texture ? (x * 7 + y * 13) % 17 : 0;
      rgb.set(colour.map((c) => Math.min(255, c + tint + grain)), i * 3);
      depth[i] = cls === 10 ? 1 : 2 + (y - 12) * 3;
    }
  }
  return { rgb, labels, depth };
}

/** A crop of random colours and depths, left half road and right half car: the speed benchmarks' input. */
export function syntheticCrop(w: number, h: number, seed: number): Crop {
  const random = new Rng(seed);
  const rgb = new Float32Array(w * h * 3).map(() => random.next() * 255);
  const labels = new Uint8Array(w * h).map((_, i) => (i % w < w / 2 ? 0 : 13));
  const depth = new Float32Array(w * h).map(() => 2 + random.next() * 50);
  return { rgb, labels, depth };
}

/**
 * The speed benchmarks' batch: two labelled source crops and two target crops without labels, as in a first round
 * (a target crop with labels would add the corrected-target pass, which the PyTorch twin's step does not have).
 */
export function syntheticBatch(w: number, h: number): { source: Crop[]; target: Crop[] } {
  return {
    source: [syntheticCrop(w, h, 1), syntheticCrop(w, h, 2)],
    target: [syntheticCrop(w, h, 3), syntheticCrop(w, h, 4)].map((c) => ({ ...c, labels: null })),
  };
}
