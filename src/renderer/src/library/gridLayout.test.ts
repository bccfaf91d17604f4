import { describe, expect, it } from 'vitest';
import { CELL_GAP, MIN_CELL_WIDTH, gridLayout, nextGridIndex } from './gridLayout';

describe('gridLayout', () => {
  it('always has at least one column', () => {
    expect(gridLayout(0).columns).toBe(1);
    expect(gridLayout(50).columns).toBe(1);
  });

  it('fits as many minimum-width cells as the width allows', () => {
    const width = 4 * MIN_CELL_WIDTH + 5 * CELL_GAP;
    const layout = gridLayout(width);
    expect(layout.columns).toBe(4);
    expect(layout.cellWidth).toBeCloseTo(MIN_CELL_WIDTH);
    expect(gridLayout(width - 1).columns).toBe(3);
  });
});

describe('nextGridIndex', () => {
  it('moves by one across and by a row up and down, clamped to the list', () => {
    expect(nextGridIndex('ArrowRight', 3, 10, 4)).toBe(4);
    expect(nextGridIndex('ArrowLeft', 0, 10, 4)).toBe(0);
    expect(nextGridIndex('ArrowDown', 7, 10, 4)).toBe(9);
    expect(nextGridIndex('ArrowUp', 5, 10, 4)).toBe(1);
    expect(nextGridIndex('End', 2, 10, 4)).toBe(9);
    expect(nextGridIndex('Home', 7, 10, 4)).toBe(0);
  });

  it('ignores other keys and empty lists', () => {
    expect(nextGridIndex('Enter', 3, 10, 4)).toBeNull();
    expect(nextGridIndex('ArrowRight', 0, 0, 4)).toBeNull();
  });
});
