import { describe, expect, it } from 'vitest';
import type { LabelCanvas } from '../canvas/labelCanvas';
import type { EditorSession } from '../canvas/session';
import { ACTIONS, actionTitle, perform, type KeyPress, type ScreenControls } from './actions';
import { keyAction, releasedAction } from './keymap';

const press = (key: string, code: string, extra: Partial<KeyPress> = {}): KeyPress => ({ key, code, ctrl: false, shift: false, alt: false, ...extra });

/** A screen that records what the actions asked of it. */
function fakeScreen(toolUsesKey = false) {
  const calls: string[] = [];
  const session = {
    key: (key: string) => (calls.push(`session.key ${key}`), toolUsesKey),
    setTool: (tool: string) => calls.push(`tool ${tool}`),
    setBrushSize: (size: number) => calls.push(`brush ${size}`),
    snapshot: () => ({ brushSize: 12 }),
  } as unknown as EditorSession;
  const canvas = {
    drawPreview: () => calls.push('preview'),
    setSpaceHeld: (held: boolean) => calls.push(`space ${held}`),
    zoomBy: (factor: number) => calls.push(`zoom ${factor}`),
    getView: () => ({ scale: 4, x: 0, y: 0 }),
  } as unknown as LabelCanvas;
  const screen: ScreenControls = {
    session,
    canvas,
    go: (delta) => calls.push(`go ${delta}`),
    close: () => calls.push('close'),
    toggleCorrection: () => calls.push('toggle correction'),
    setPeek: (on) => calls.push(`peek ${on}`),
    nextRegion: () => calls.push('next region'),
    toggleRegionLock: () => calls.push('region lock'),
  };
  return { screen, calls };
}

describe('editor actions', () => {
  it('perform what the key map finds: the same object serves a key and a button', () => {
    const { screen, calls } = fakeScreen();
    for (const p of [press('x', 'KeyX'), press(']', 'BracketRight'), press('ArrowLeft', 'ArrowLeft'), press('F', 'KeyF', { shift: true }), press('n', 'KeyN')]) {
      perform(screen, keyAction(p)!);
    }
    perform(screen, { kind: 'tool', tool: 'lasso' }); // the tool row's button
    expect(calls).toEqual(['tool second-choice', 'brush 16', 'go -1', 'zoom 0.25', 'next region', 'tool lasso']);
  });

  it('give Escape to the tool first and leave the image only when the tool had no use for it', () => {
    const idle = fakeScreen(false);
    perform(idle.screen, keyAction(press('Escape', 'Escape'))!);
    expect(idle.calls).toEqual(['session.key Escape', 'close']);
    const drawing = fakeScreen(true);
    perform(drawing.screen, keyAction(press('Escape', 'Escape'))!);
    expect(drawing.calls).toEqual(['session.key Escape', 'preview']);
  });

  it('end held actions when their key goes up, and leave keys to the controls that need them', () => {
    const { screen, calls } = fakeScreen();
    perform(screen, keyAction(press(' ', 'Space'))!);
    releasedAction(' ')?.release?.perform(screen);
    perform(screen, keyAction(press('h', 'KeyH'))!);
    releasedAction('H')?.release?.perform(screen);
    expect(calls).toEqual(['space true', 'space false', 'peek true', 'peek false']);
    expect(releasedAction('q')).toBeNull();
    expect([ACTIONS.next.ignoredOn, ACTIONS.previous.ignoredOn, ACTIONS.pan.ignoredOn, ACTIONS.fit.ignoredOn]).toEqual(['slider', 'slider', 'control', undefined]);
  });

  it('keep the digit row for classes and Ctrl for undo / redo, whatever character the layout gives', () => {
    // Shift+0 is no class; on layouts where that key types '=' it still does not zoom.
    expect(keyAction(press('=', 'Digit0', { shift: true }))).toBeNull();
    expect(keyAction(press('-', 'Digit6'))).toEqual({ kind: 'class', classId: 5 });
    expect(keyAction(press('f', 'KeyF', { ctrl: true }))).toBeNull();
    expect(keyAction(press('1', 'Digit1', { ctrl: true }))).toBeNull();
  });

  it('title buttons with their keys', () => {
    expect(actionTitle('undo')).toBe('Undo the last stroke (Ctrl+Z)');
    expect(actionTitle('previous')).toBe('Previous image (← or A)');
    expect(actionTitle('close')).toBe('Back to the grid (Esc)');
  });
});
