import { describe, expect, it } from 'vitest';
import { classHotkey, keyAction, type KeyPress } from './keymap';

const press = (key: string, extra: Partial<KeyPress> = {}): KeyPress => ({
  key,
  code: /^\d$/.test(key) ? `Digit${key}` : `Key${key.toUpperCase()}`,
  ctrl: false,
  shift: false,
  alt: false,
  ...extra,
});

describe('key map', () => {
  it('puts classes 0-9 on digits 1..9,0 and 10-18 on shift+digit, and labels the hotkeys the same way', () => {
    expect(keyAction(press('1'))).toEqual({ kind: 'class', classId: 0 });
    expect(keyAction(press('0'))).toEqual({ kind: 'class', classId: 9 });
    expect(keyAction(press('!', { code: 'Digit1', shift: true }))).toEqual({ kind: 'class', classId: 10 });
    expect(keyAction(press('(', { code: 'Digit9', shift: true }))).toEqual({ kind: 'class', classId: 18 });
    expect([0, 9, 10, 18].map(classHotkey)).toEqual(['1', '0', '⇧1', '⇧9']);
  });

  it('maps undo and redo, tools and brush size', () => {
    expect(keyAction(press('z', { ctrl: true }))).toEqual({ kind: 'undo' });
    expect(keyAction(press('Z', { ctrl: true, shift: true }))).toEqual({ kind: 'redo' });
    expect(keyAction(press('y', { ctrl: true }))).toEqual({ kind: 'redo' });
    expect(keyAction(press('g'))).toEqual({ kind: 'tool', tool: 'fill' });
    expect(keyAction(press(']', { code: 'BracketRight' }))).toEqual({ kind: 'brush', factor: 1.25 });
    expect(keyAction(press('q'))).toBeNull();
    expect(keyAction(press('n'))).toEqual({ kind: 'nextRegion' });
    expect(keyAction(press('r'))).toEqual({ kind: 'regionLock' });
    expect(keyAction(press('b', { alt: true }))).toBeNull();
  });
});
