// Pure painting for the editor's canvas: label map and provenance to RGBA words, a region's superpixel to its
// tint and edge, and the rectangle arithmetic of dirty regions. Words are little-endian RGBA (one 32-bit write
// per pixel of an ImageData's buffer); nothing here touches the DOM.
import { TRAIN_CLASSES } from '../../../shared/labels';
import type { EditorPlanes, Rect } from './stroke';
import type { Point, Size } from './zoomPan';

/** A class's colour as a little-endian RGBA word, opaque; 0 (transparent) for ids outside the palette. */
export const PALETTE_WORDS = (() => {
  const words = new Uint32Array(256);
  for (const c of TRAIN_CLASSES) words[c.trainId] = rgbaWord(c.color[0], c.color[1], c.color[2], 255);
  return words;
})();

/** Where a person set the label: white, partly transparent. */
export const HUMAN_MARK = rgbaWord(255, 255, 255, 110);
export const REGION_EDGE = rgbaWord(0, 229, 255, 255);
export const REGION_FILL = rgbaWord(0, 229, 255, 60);

export function rgbaWord(r: number, g: number, b: number, a: number): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/**
 * Writes the palette colour of each label and the human mark of each edited pixel inside `rect` (clipped to the
 * image) into two image-sized word buffers. Returns the clipped rectangle, or null when nothing of it is inside.
 */
export function paintLabelWords(planes: Pick<EditorPlanes, 'width' | 'height' | 'labels' | 'human'>, labelWords: Uint32Array, humanWords: Uint32Array, rect: Rect): Rect | null {
  const { width, height, labels, human } = planes;
  const clipped = { x0: Math.max(0, rect.x0), y0: Math.max(0, rect.y0), x1: Math.min(width - 1, rect.x1), y1: Math.min(height - 1, rect.y1) };
  if (clipped.x1 < clipped.x0 || clipped.y1 < clipped.y0) return null;
  for (let y = clipped.y0; y <= clipped.y1; y++) {
    for (let i = y * width + clipped.x0, end = y * width + clipped.x1; i <= end; i++) {
      labelWords[i] = PALETTE_WORDS[labels[i]!]!;
      humanWords[i] = human[i] ? HUMAN_MARK : 0;
    }
  }
  return clipped;
}

export interface RegionShape {
  superpixels: Uint16Array;
  /** The superpixel map's width (the image's). */
  width: number;
  /** The region's superpixel. */
  id: number;
}

/**
 * The region's superpixel inside its box, as words of a box-sized image: a faint fill, and an opaque edge on
 * pixels with a 4-neighbour outside the superpixel (or outside the image).
 */
export function regionShapeWords(box: { x: number; y: number; width: number; height: number }, shape: RegionShape): Uint32Array {
  const { superpixels, width, id } = shape;
  const height = superpixels.length / width;
  const words = new Uint32Array(box.width * box.height);
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && superpixels[y * width + x] === id;
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const ix = box.x + x;
      const iy = box.y + y;
      if (!inside(ix, iy)) continue;
      const edge = !inside(ix - 1, iy) || !inside(ix + 1, iy) || !inside(ix, iy - 1) || !inside(ix, iy + 1);
      words[y * box.width + x] = edge ? REGION_EDGE : REGION_FILL;
    }
  }
  return words;
}

/** The smallest rectangle holding both (a new object; `a` may be null). */
export function unionRect(a: Rect | null, b: Rect): Rect {
  if (!a) return { ...b };
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

export function insideImage(p: Point, size: Size): boolean {
  return p.x >= 0 && p.y >= 0 && p.x < size.width && p.y < size.height;
}
