// A toy street crop for engine tests: sky above, road below, a "car" block shifted by `shift`, depth growing
// towards the horizon (sky depth 1, the invalid code). `texture` adds a little deterministic pattern.
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
