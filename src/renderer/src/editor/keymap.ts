// Every key the image view answers, as data: one pure function from a key press to an action, so the
// hotkeys are listed in one place and tested without a browser.
import type { ToolName } from './tools';

export type KeyAction =
  | { kind: 'class'; classId: number }
  | { kind: 'tool'; tool: ToolName }
  | { kind: 'brush'; factor: number }
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'toolKey'; key: 'Enter' | 'Escape' | 'Backspace' }
  | { kind: 'next' }
  | { kind: 'previous' }
  | { kind: 'fit' }
  | { kind: 'actualSize' }
  | { kind: 'zoom'; factor: number }
  | { kind: 'toggleCorrection' }
  | { kind: 'peek' }
  | { kind: 'pan' }
  | { kind: 'nextRegion' }
  | { kind: 'regionLock' };

export interface KeyPress {
  key: string;
  code: string;
  ctrl: boolean;
  shift: boolean;
  alt: boolean;
}

export const TOOL_KEYS: Record<string, ToolName> = {
  b: 'brush',
  e: 'eraser',
  i: 'ignore',
  g: 'fill',
  p: 'polygon',
  l: 'lasso',
  s: 'superpixel',
  x: 'second-choice',
};

export const TOOL_HOTKEY: Record<ToolName, string> = Object.fromEntries(Object.entries(TOOL_KEYS).map(([k, t]) => [t, k.toUpperCase()])) as Record<ToolName, string>;

/** Classes 0–9 on the digit keys 1…9, 0; classes 10–18 on Shift+1…9. */
export function classHotkey(classId: number): string {
  if (classId <= 9) return String((classId + 1) % 10);
  return `⇧${classId - 9}`;
}

export function keyAction(press: KeyPress): KeyAction | null {
  const { key, code, ctrl, shift, alt } = press;
  if (alt) return null;
  if (ctrl) {
    const k = key.toLowerCase();
    if (k === 'z') return shift ? { kind: 'redo' } : { kind: 'undo' };
    if (k === 'y') return { kind: 'redo' };
    return null;
  }
  const digit = /^Digit(\d)$/.exec(code);
  if (digit) {
    const d = Number(digit[1]);
    if (shift) return d >= 1 ? { kind: 'class', classId: 9 + d } : null;
    return { kind: 'class', classId: (d + 9) % 10 };
  }
  const lower = key.toLowerCase();
  if (TOOL_KEYS[lower]) return { kind: 'tool', tool: TOOL_KEYS[lower] };
  switch (key) {
    case '[':
      return { kind: 'brush', factor: 1 / 1.25 };
    case ']':
      return { kind: 'brush', factor: 1.25 };
    case 'Enter':
    case 'Escape':
    case 'Backspace':
      return { kind: 'toolKey', key };
    case 'ArrowRight':
      return { kind: 'next' };
    case 'ArrowLeft':
      return { kind: 'previous' };
    case '+':
    case '=':
      return { kind: 'zoom', factor: 1.25 };
    case '-':
      return { kind: 'zoom', factor: 1 / 1.25 };
    case ' ':
      return { kind: 'pan' };
  }
  switch (lower) {
    case 'd':
      return { kind: 'next' };
    case 'a':
      return { kind: 'previous' };
    case 'f':
      return shift ? { kind: 'actualSize' } : { kind: 'fit' };
    case 'o':
      return { kind: 'toggleCorrection' };
    case 'h':
      return { kind: 'peek' };
    case 'n':
      return { kind: 'nextRegion' };
    case 'r':
      return { kind: 'regionLock' };
  }
  return null;
}
