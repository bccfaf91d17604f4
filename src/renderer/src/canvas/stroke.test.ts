import { describe, expect, it } from 'vitest';
import { applyDelta } from '../../../shared/labelDelta';
import { Stroke, protectionTable, type EditorPlanes } from './stroke';

function planes(labels: number[], model = labels, second: number[] | null = null): EditorPlanes {
  return {
    width: labels.length,
    height: 1,
    labels: Uint8Array.from(labels),
    human: new Uint8Array(labels.length),
    model: Uint8Array.from(model),
    second: second ? Uint8Array.from(second) : null,
    superpixels: null,
  };
}

describe('strokes', () => {
  it('paint a class, mark the pixels human, and give a delta of only the net change', () => {
    const p = planes([0, 0, 1, 1]);
    const stroke = new Stroke(p, { kind: 'class', classId: 1 });
    stroke.touchAll([0, 1, 2, 3, 1]);
    expect(Array.from(p.labels)).toEqual([1, 1, 1, 1]);
    expect(Array.from(p.human)).toEqual([1, 1, 1, 1]);
    const delta = stroke.finish()!;
    expect(Array.from(delta.runs)).toEqual([0, 4]);
    expect(stroke.takeDirty()).toEqual({ x0: 0, y0: 0, x1: 3, y1: 0 });
  });

  it('protect classes: a stroke changes only pixels of unlocked classes', () => {
    const p = planes([0, 2, 5, 2, 255]);
    const stroke = new Stroke(p, { kind: 'class', classId: 7 }, protectionTable([2, 255]));
    stroke.touchAll([0, 1, 2, 3, 4]);
    expect(Array.from(p.labels)).toEqual([7, 2, 7, 2, 255]);
    expect(Array.from(stroke.finish()!.runs)).toEqual([0, 1, 2, 1]);
  });

  it('confined to a region: a stroke changes only the pixels of that superpixel', () => {
    const p = planes([0, 0, 0, 0, 0]);
    const superpixels = Uint16Array.from([3, 3, 4, 3, 4]);
    const stroke = new Stroke(p, { kind: 'class', classId: 6 }, protectionTable([]), { superpixels, id: 3 });
    stroke.touchAll([0, 1, 2, 3, 4]);
    expect(Array.from(p.labels)).toEqual([6, 6, 0, 6, 0]);
    expect(Array.from(p.human)).toEqual([1, 1, 0, 1, 0]);
  });

  it('the eraser restores the model label with model provenance; ignore writes 255; second choice swaps', () => {
    const p = planes([3, 3, 3], [1, 2, 3], [9, 8, 7]);
    new Stroke(p, { kind: 'class', classId: 4 }).touchAll([0, 1, 2]);
    const eraser = new Stroke(p, { kind: 'model' });
    eraser.touchAll([0, 1]);
    expect(Array.from(p.labels)).toEqual([1, 2, 4]);
    expect(Array.from(p.human)).toEqual([0, 0, 1]);
    new Stroke(p, { kind: 'ignore' }).touch(0);
    new Stroke(p, { kind: 'second' }).touch(1);
    expect(Array.from(p.labels)).toEqual([255, 8, 4]);
    expect(Array.from(p.human)).toEqual([1, 1, 1]);
  });

  it('a stroke that changes nothing has no delta; cancel puts everything back', () => {
    const p = planes([0, 1]);
    new Stroke(p, { kind: 'class', classId: 1 }).touch(0);
    const again = new Stroke(p, { kind: 'class', classId: 1 });
    again.touchAll([0, 0]);
    expect(again.finish()).toBeNull();
    const eraser = new Stroke(p, { kind: 'model' });
    eraser.touch(1);
    expect(eraser.finish()).toBeNull();
    const cancelled = new Stroke(p, { kind: 'class', classId: 5 });
    cancelled.touchAll([0, 1]);
    expect(Array.from(p.labels)).toEqual([5, 5]);
    expect(cancelled.cancel()).toEqual({ x0: 0, y0: 0, x1: 1, y1: 0 });
    expect(Array.from(p.labels)).toEqual([1, 1]);
    expect(Array.from(p.human)).toEqual([1, 0]);
  });

  it('undo deltas: applying a stroke delta to the pre-stroke map and then its inverse restores it exactly', () => {
    const p = planes([0, 1, 2, 3, 4, 5]);
    const saved = { labels: p.labels.slice(), human: p.human.slice() };
    const stroke = new Stroke(p, { kind: 'class', classId: 9 });
    stroke.touchAll([1, 2, 4]);
    const after = { labels: p.labels.slice(), human: p.human.slice() };
    const delta = stroke.finish()!;
    const replay = { labels: saved.labels.slice(), human: saved.human.slice() };
    const inverse = applyDelta(replay, delta);
    expect(replay).toEqual(after);
    applyDelta(replay, inverse);
    expect(replay).toEqual(saved);
  });
});
