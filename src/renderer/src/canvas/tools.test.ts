import { describe, expect, it } from 'vitest';
import { Stroke, type EditorPlanes, type PaintMode } from './stroke';
import { createTool, type ToolHost, type ToolName } from './tools';

function host(width: number, height: number, init: (planes: EditorPlanes) => void = () => undefined) {
  const n = width * height;
  const planes: EditorPlanes = { width, height, labels: new Uint8Array(n), human: new Uint8Array(n), model: new Uint8Array(n), second: null, superpixels: null };
  init(planes);
  const commits: { tool: ToolName; pixels: number }[] = [];
  const h: ToolHost & { classId: number; brushSize: number } = {
    planes,
    classId: 5,
    brushSize: 3,
    begin: (mode: PaintMode) => new Stroke(planes, mode),
    changed: () => undefined,
    commit: (stroke, tool) => commits.push({ tool, pixels: stroke.finish()?.labels.length ?? 0 }),
    cancel: (stroke) => void stroke.cancel(),
  };
  return { h, planes, commits };
}

const count = (planes: EditorPlanes, value: number) => planes.labels.filter((v) => v === value).length;

describe('tools', () => {
  it('brush: down, moves and up make one stroke; Escape mid-stroke cancels it', () => {
    const { h, planes, commits } = host(20, 10);
    const brush = createTool('brush', h, () => 1);
    brush.down({ x: 2.5, y: 5.5 });
    expect(brush.busy).toBe(true);
    brush.move([{ x: 10.5, y: 5.5 }]);
    brush.up({ x: 17.5, y: 5.5 });
    expect(brush.busy).toBe(false);
    expect(commits).toHaveLength(1);
    expect(planes.labels[5 * 20 + 10]).toBe(5);
    const painted = count(planes, 5);
    h.classId = 7;
    brush.down({ x: 2.5, y: 2.5 });
    expect(brush.key('Escape')).toBe(true);
    expect(count(planes, 7)).toBe(0);
    expect(count(planes, 5)).toBe(painted);
    expect(commits).toHaveLength(1);
  });

  it('polygon: clicks add vertices, Backspace removes one, clicking the first vertex fills and commits once', () => {
    const { h, planes, commits } = host(10, 10);
    // Zoomed in 4x: the 8-screen-pixel closing reach is 2 image pixels.
    const polygon = createTool('polygon', h, () => 0.25);
    for (const p of [
      { x: 1, y: 1 },
      { x: 9, y: 1 },
      { x: 5, y: 5 },
    ])
      polygon.down(p);
    expect(polygon.key('Backspace')).toBe(true);
    polygon.down({ x: 9, y: 9 });
    polygon.down({ x: 1, y: 9 });
    expect(polygon.preview()?.points).toHaveLength(4);
    polygon.down({ x: 1.5, y: 1.5 }); // near the first vertex: close
    expect(polygon.busy).toBe(false);
    expect(commits).toEqual([{ tool: 'polygon', pixels: 64 }]);
    expect(count(planes, 5)).toBe(64);
  });

  it('polygon: Enter closes, Escape drops; fewer than three vertices fill nothing', () => {
    const { h, commits } = host(10, 10);
    const polygon = createTool('polygon', h, () => 1);
    polygon.down({ x: 1, y: 1 });
    polygon.down({ x: 5, y: 1 });
    expect(polygon.key('Escape')).toBe(true);
    expect(polygon.busy).toBe(false);
    polygon.down({ x: 0, y: 0 });
    polygon.down({ x: 4, y: 0 });
    polygon.down({ x: 0, y: 4 });
    polygon.key('Enter');
    expect(commits).toEqual([{ tool: 'polygon', pixels: 6 }]);
  });

  it('lasso fills its outline on release; fill takes the connected region; superpixel drag fills each superpixel once', () => {
    const { h, planes, commits } = host(8, 4, (p) => {
      p.labels.fill(1, 0, 16); // top half class 1
      p.superpixels = Uint16Array.from({ length: 32 }, (_, i) => (i % 8 < 4 ? 0 : 1) + (i >= 16 ? 2 : 0));
    });
    const lasso = createTool('lasso', h, () => 1);
    lasso.down({ x: 0, y: 0 });
    lasso.move([{ x: 8, y: 0 }, { x: 8, y: 2 }]);
    lasso.up({ x: 0, y: 2 });
    expect(commits.at(-1)).toEqual({ tool: 'lasso', pixels: 16 });

    const fill = createTool('fill', h, () => 1);
    h.classId = 3;
    fill.down({ x: 1, y: 3 });
    fill.up({ x: 1, y: 3 });
    expect(count(planes, 3)).toBe(16);

    const superpixel = createTool('superpixel', h, () => 1);
    h.classId = 9;
    superpixel.down({ x: 0, y: 0 });
    superpixel.move([{ x: 1, y: 0 }, { x: 6, y: 0 }]);
    superpixel.up({ x: 6, y: 0 });
    expect(commits.at(-1)).toEqual({ tool: 'superpixel', pixels: 16 });
    expect(count(planes, 9)).toBe(16);
    expect(planes.labels[3 * 8 + 1]).toBe(3);
  });
});
