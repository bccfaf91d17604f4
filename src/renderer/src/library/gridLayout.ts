// Pure layout math for the thumbnail grid: how many columns fit, how tall a row is, where arrow keys move focus.

export const MIN_CELL_WIDTH = 180;
export const CELL_GAP = 6;
export const CAPTION_HEIGHT = 22;
/** Thumbnails are shown in a fixed box of this height / width ratio (Cityscapes and GTA5 are about 1:2 and 1:1.8). */
export const THUMB_ASPECT = 0.5;

export interface GridLayout {
  columns: number;
  cellWidth: number;
  rowHeight: number;
}

export function gridLayout(containerWidth: number): GridLayout {
  const width = Math.max(0, containerWidth - 2 * CELL_GAP); // a gap on the left and on the right
  const columns = Math.max(1, Math.floor((width + CELL_GAP) / (MIN_CELL_WIDTH + CELL_GAP)));
  const cellWidth = Math.max(1, (width - CELL_GAP * (columns - 1)) / columns);
  const rowHeight = Math.round(cellWidth * THUMB_ASPECT + CAPTION_HEIGHT + CELL_GAP);
  return { columns, cellWidth, rowHeight };
}

/** The index focus moves to for a navigation key, or null when the key is not a grid navigation key. */
export function nextGridIndex(key: string, index: number, count: number, columns: number, pageRows = 4): number | null {
  if (count === 0) return null;
  const last = count - 1;
  const clamp = (i: number) => Math.max(0, Math.min(last, i));
  switch (key) {
    case 'ArrowRight':
      return clamp(index + 1);
    case 'ArrowLeft':
      return clamp(index - 1);
    case 'ArrowDown':
      return clamp(index + columns);
    case 'ArrowUp':
      return clamp(index - columns);
    case 'PageDown':
      return clamp(index + columns * pageRows);
    case 'PageUp':
      return clamp(index - columns * pageRows);
    case 'Home':
      return 0;
    case 'End':
      return last;
    default:
      return null;
  }
}
