import { describe, expect, it } from 'vitest';
import type { CorrectionState } from '../../../shared/api';
import { SaveQueue, type SaveOp, type SaveStatus } from './saveQueue';

const state: CorrectionState = {
  imageId: 1, width: 4, height: 1, version: 0, revision: 0, baseRoundId: null, humanPixels: 0,
  canUndo: false, canRedo: false, strokes: 0, secondsSpent: 0, updatedAt: null,
};

const stroke: SaveOp = {
  kind: 'stroke',
  delta: { runs: Uint32Array.from([0, 1]), labels: Uint8Array.from([3]), human: Uint8Array.from([1]) },
  tool: 'brush',
  classId: 3,
  ms: 10,
};

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the save queue', () => {
  it('keeps a stroke the lost connection refused and sends it as soon as the connection is back', async () => {
    let online = false;
    const sent: number[] = [];
    const api = {
      applyStroke: async (input: { baseRevision: number }) => {
        sent.push(input.baseRevision);
        if (!online) throw new Error('The connection to the workbench server was lost.');
        return { ...state, version: 1, revision: 1, strokes: 1 };
      },
      undoStroke: () => Promise.reject(new Error('unused')),
      redoStroke: () => Promise.reject(new Error('unused')),
    };
    const reconnectListeners = new Set<() => void>();
    const statuses: SaveStatus[] = [];
    const queue = new SaveQueue(api, state, null, () => undefined, (s) => statuses.push(s), undefined, (listener) => {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    });

    queue.push(stroke);
    await settled();
    expect(queue.status()).toMatchObject({ pending: 1, error: expect.stringMatching(/connection/) });
    expect(reconnectListeners.size).toBe(1);

    online = true;
    for (const listener of [...reconnectListeners]) listener();
    await settled();
    // Sent again at once, not after the 2 s timer; and no longer listening.
    expect(sent).toEqual([0, 0]);
    expect(queue.status()).toMatchObject({ pending: 0, error: null, state: { version: 1 } });
    expect(reconnectListeners.size).toBe(0);
    queue.close();
  });
});
