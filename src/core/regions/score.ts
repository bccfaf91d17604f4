// Which superpixels a person should look at first. RIPU (Xie et al., "Towards Fewer Annotations: Active
// Learning via Region Impurity and Prediction Uncertainty for Domain Adaptive Semantic Segmentation", CVPR
// 2022) scores a region by impurity (entropy of its predicted-class histogram) times uncertainty; CorDA adds
// where its two depth heads disagree (the round's difficulty layer: that disagreement averaged with the
// prediction entropy where depth is known, CORDA.md §4). Here:
//
//   score = disagreement × uncertainty × (0.5 + impurity)
//
// disagreement = mean difficulty in [0, 1], uncertainty = mean (1 − confidence) in [0, 1], impurity = entropy
// of the predicted classes inside the region / log 19, in [0, 1]. The product keeps RIPU's "both must be
// high" shape. Impurity is a bonus rather than a factor: superpixels follow colour edges, so a whole object
// predicted as one wrong class is a pure region that is exactly what a person should fix; with RIPU's bare
// product it would score zero. A mixed region still counts up to three times a pure one of equal doubt.

export const CLASS_COUNT = 19;
export const IGNORE = 255;
const PURITY_FLOOR = 0.5;

export interface RegionLayers {
  width: number;
  height: number;
  /** Predicted trainIds (255 = ignore, left out of the class histogram). */
  labels: Uint8Array;
  /** The stored layers' 0..255 scale. */
  confidence: Uint8Array;
  difficulty: Uint8Array;
  superpixels: Uint16Array;
  /** Superpixel ids run 0..count-1. */
  count: number;
}

export interface RegionScore {
  superpixel: number;
  /** Pixels at the layers' size. */
  pixels: number;
  impurity: number;
  uncertainty: number;
  disagreement: number;
  score: number;
}

export function regionScore(disagreement: number, uncertainty: number, impurity: number): number {
  return disagreement * uncertainty * (PURITY_FLOOR + impurity);
}

/** Scores every superpixel of at least `minPixels` pixels; hardest first (ties: lower id first). */
export function scoreRegions(layers: RegionLayers, minPixels = 1): RegionScore[] {
  const { labels, confidence, difficulty, superpixels, count } = layers;
  const n = layers.width * layers.height;
  for (const [name, layer] of [['labels', labels], ['confidence', confidence], ['difficulty', difficulty], ['superpixels', superpixels]] as const) {
    if (layer.length !== n) throw new Error(`the ${name} layer has ${layer.length} pixels, expected ${layers.width}x${layers.height}`);
  }
  const pixels = new Int32Array(count);
  const doubt = new Float64Array(count);
  const disagreement = new Float64Array(count);
  const histogram = new Int32Array(count * CLASS_COUNT);
  for (let p = 0; p < n; p++) {
    const id = superpixels[p]!;
    if (id >= count) throw new Error(`superpixel id ${id} is outside 0..${count - 1}`);
    pixels[id]!++;
    doubt[id]! += 255 - confidence[p]!;
    disagreement[id]! += difficulty[p]!;
    const label = labels[p]!;
    if (label < CLASS_COUNT) histogram[id * CLASS_COUNT + label]!++;
  }
  const scores: RegionScore[] = [];
  for (let id = 0; id < count; id++) {
    const size = pixels[id]!;
    if (size < minPixels || size === 0) continue;
    const impurity = classEntropy(histogram.subarray(id * CLASS_COUNT, (id + 1) * CLASS_COUNT));
    const uncertainty = doubt[id]! / size / 255;
    const meanDisagreement = disagreement[id]! / size / 255;
    scores.push({ superpixel: id, pixels: size, impurity, uncertainty, disagreement: meanDisagreement, score: regionScore(meanDisagreement, uncertainty, impurity) });
  }
  return scores.sort((a, b) => b.score - a.score || a.superpixel - b.superpixel);
}

/** Entropy of a class histogram, divided by log(19) so that it lies in [0, 1]. */
export function classEntropy(histogram: ArrayLike<number>): number {
  let total = 0;
  for (let c = 0; c < histogram.length; c++) total += histogram[c]!;
  if (total === 0) return 0;
  let entropy = 0;
  for (let c = 0; c < histogram.length; c++) {
    const share = histogram[c]! / total;
    if (share > 0) entropy -= share * Math.log(share);
  }
  return entropy / Math.log(CLASS_COUNT);
}
