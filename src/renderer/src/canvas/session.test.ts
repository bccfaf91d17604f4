import { describe, expect, it } from 'vitest';
import type { CorrectionState } from '../../../shared/api';
import { decodeDelta, base64ToBytes } from '../../../shared/labelDelta';
import { PerfRecorder } from './perf';
import { EditorSession, type SessionCanvas, type SessionTransport } from './session';
import type { Rect } from './stroke';

const W = 4;
const H = 2;
const stored: CorrectionState = {
  imageId: 9, width: W, height: H, version: 0, revision: 0, baseRoundId: null, humanPixels: 0,
  canUndo: false, canRedo: false, strokes: 0, secondsSpent: 0, updatedAt: null,
};
// The base round's prediction: class 1 on the left half, class 2 on the right.
const prediction = Uint8Array.of(1, 1, 2, 2, 1, 1, 2, 2);

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup() {
  const fetched: string[] = [];
  const sent: { delta: string; tool: string; classId: number | null; baseRoundId: number | null }[] = [];
  const transport: SessionTransport = {
    api: {
      getCorrection: async () => stored,
      applyStroke: async (input) => {
        sent.push(input);
        return { ...stored, version: 1, revision: 1, strokes: 1, canUndo: true };
      },
      undoStroke: () => Promise.reject(new Error('unused')),
      redoStroke: () => Promise.reject(new Error('unused')),
    },
    roundRaw: async (imageId, roundId, raw) => {
      fetched.push(`${imageId}/${roundId}/${raw}`);
      if (raw === 'prediction') return prediction.slice();
      throw new Error(`no ${raw}`);
    },
    correctionRaw: () => Promise.reject(new Error('never edited: not fetched')),
    onReconnect: () => () => undefined,
  };
  const invalidated: Rect[] = [];
  const canvas: SessionCanvas = {
    perf: new PerfRecorder(),
    setPlanes: () => undefined,
    invalidate: (rect) => void (rect && invalidated.push(rect)),
    imagePixelsPerScreenPixel: () => 1,
  };
  const session = new EditorSession(transport, canvas, { id: 9, width: W, height: H }, 3, true, { tool: 'fill', classId: 5, brushSize: 4, protectedClasses: [] });
  return { session, fetched, sent, invalidated };
}

describe('an editor session', () => {
  it('loads through the transport it is given: the base round raw buffers, no stored correction for a fresh image', async () => {
    const { session, fetched } = setup();
    expect(session.activeTool()).toBeNull(); // nothing to edit until loaded
    await session.load();
    expect(fetched.sort()).toEqual(['9/3/prediction', '9/3/second', '9/3/superpixels']);
    expect(session.snapshot()).toMatchObject({ phase: 'ready', baseRoundId: 3, hasSecond: false, hasSuperpixels: false });
    expect(Array.from(session.planes.labels)).toEqual(Array.from(prediction));
    expect(session.planes.labels).not.toBe(session.planes.model); // edits never touch the model's copy
  });

  it('sends a finished fill as one stroke with the class, and refuses undo in the middle of a gesture', async () => {
    const { session, sent, invalidated } = setup();
    await session.load();
    const fill = session.activeTool()!;
    fill.down({ x: 0.5, y: 0.5 });
    session.toolChanged();
    expect(session.snapshot().busy).toBe(true);
    session.undo();
    expect(session.snapshot().notice).toMatch(/middle of a stroke/);
    fill.up({ x: 0.5, y: 0.5 });
    session.toolChanged();
    await settled();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ tool: 'fill', classId: 5, baseRoundId: 3 });
    const delta = decodeDelta(base64ToBytes(sent[0]!.delta), W * H);
    expect(Array.from(delta.runs)).toEqual([0, 2, 4, 2]); // the left half, both rows
    expect(Array.from(session.planes.labels)).toEqual([5, 5, 2, 2, 5, 5, 2, 2]);
    expect(invalidated.at(-1)).toEqual({ x0: 0, y0: 0, x1: 1, y1: 1 });
    expect(session.snapshot()).toMatchObject({ busy: false, save: { pending: 0, state: { version: 1 } } });
  });
});
