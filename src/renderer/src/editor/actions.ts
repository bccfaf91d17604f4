// Everything the editor screen does on a key or a button, as one object per action: its name, the keys that
// trigger it (`keyTest`, and `keys` as shown to a person), and `perform`. The key map (keymap.ts) finds the
// action for a key press; the tool rows and buttons perform the same objects, so a key and its button cannot
// drift apart.
import type { LabelCanvas } from '../canvas/labelCanvas';
import type { EditorSession } from '../canvas/session';
import type { ToolName } from '../canvas/tools';

export interface KeyPress {
  key: string;
  code: string;
  ctrl: boolean;
  shift: boolean;
  alt: boolean;
}

/** The screen as the actions see it. */
export interface ScreenControls {
  session: EditorSession | null;
  canvas: LabelCanvas | null;
  /** Next (1) or previous (-1) image in the filtered order. */
  go(delta: number): void;
  /** Back to the grid, unless unsaved strokes or a gesture hold the image. */
  close(): void;
  toggleCorrection(): void;
  setPeek(on: boolean): void;
  nextRegion(): void;
  toggleRegionLock(): void;
}

/** Each action's arguments: what a key press (or a button) passes to `perform`. */
interface ActionArgs {
  class: { classId: number };
  tool: { tool: ToolName };
  brush: { factor: number };
  undo: object;
  redo: object;
  toolKey: { key: 'Enter' | 'Escape' | 'Backspace' };
  close: object;
  next: object;
  previous: object;
  fit: object;
  actualSize: object;
  zoom: { factor: number };
  toggleCorrection: object;
  peek: object;
  pan: object;
  nextRegion: object;
  regionLock: object;
}

export type ActionName = keyof ActionArgs;

/** One invocation of an action: its name and arguments, as the key map returns it and buttons dispatch it. */
export type KeyAction = { [K in ActionName]: { kind: K } & ActionArgs[K] }[ActionName];

export interface EditorAction<K extends ActionName> {
  name: K;
  /** What it does, for tooltips. */
  title: string;
  /** Its keys as shown to a person; empty where they depend on the argument (see TOOL_KEYS, classHotkey). */
  keys: string;
  /** The arguments when `press` triggers this action, else null. */
  keyTest(press: KeyPress): ActionArgs[K] | null;
  perform(screen: ScreenControls, args: ActionArgs[K]): void;
  /** Held actions end when their key is released. */
  release?: { keys: readonly string[]; perform(screen: ScreenControls): void };
  /** Where focus keeps the key: on a slider (arrows move it) or on any control (space presses it). */
  ignoredOn?: 'slider' | 'control';
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

export const ZOOM_STEP = 1.25;
export const BRUSH_STEP = 1.25;

/** A key press without Ctrl or Alt, on a key other than the digit row (which belongs to the classes). */
function plainKey(press: KeyPress): string | null {
  if (press.ctrl || press.alt || DIGIT_CODE.test(press.code)) return null;
  return press.key;
}
const DIGIT_CODE = /^Digit(\d)$/;
const letter = (press: KeyPress) => plainKey(press)?.toLowerCase() ?? null;
const onKey = (...keys: string[]) => (press: KeyPress) => (keys.includes(plainKey(press) ?? '') ? {} : null);
const onLetter = (l: string, shift?: boolean) => (press: KeyPress) => (letter(press) === l && (shift === undefined || press.shift === shift) ? {} : null);

type ActionTable = { [K in ActionName]: EditorAction<K> };

export const ACTIONS: ActionTable = {
  class: {
    name: 'class',
    title: 'Pick a class',
    keys: '1…0, ⇧1…9',
    keyTest: (press) => {
      const digit = !press.ctrl && !press.alt ? DIGIT_CODE.exec(press.code) : null;
      if (!digit) return null;
      const d = Number(digit[1]);
      if (press.shift) return d >= 1 ? { classId: 9 + d } : null;
      return { classId: (d + 9) % 10 };
    },
    perform: (screen, { classId }) => screen.session?.setClass(classId),
  },
  tool: {
    name: 'tool',
    title: 'Pick a tool',
    keys: '',
    keyTest: (press) => {
      const tool = TOOL_KEYS[letter(press) ?? ''];
      return tool ? { tool } : null;
    },
    perform: (screen, { tool }) => screen.session?.setTool(tool),
  },
  brush: {
    name: 'brush',
    title: 'Brush size',
    keys: '[ ]',
    keyTest: (press) => {
      const key = plainKey(press);
      return key === '[' ? { factor: 1 / BRUSH_STEP } : key === ']' ? { factor: BRUSH_STEP } : null;
    },
    perform: ({ session }, { factor }) => {
      if (!session) return;
      session.setBrushSize(session.snapshot().brushSize * factor + (factor > 1 ? 1 : -1));
    },
  },
  undo: {
    name: 'undo',
    title: 'Undo the last stroke',
    keys: 'Ctrl+Z',
    keyTest: (press) => (press.ctrl && !press.alt && press.key.toLowerCase() === 'z' && !press.shift ? {} : null),
    perform: ({ session }) => session?.undo(),
  },
  redo: {
    name: 'redo',
    title: 'Redo',
    keys: 'Ctrl+Shift+Z',
    keyTest: (press) => {
      if (!press.ctrl || press.alt) return null;
      const key = press.key.toLowerCase();
      return (key === 'z' && press.shift) || key === 'y' ? {} : null;
    },
    perform: ({ session }) => session?.redo(),
  },
  toolKey: {
    name: 'toolKey',
    title: 'Finish, cancel or step back the current shape',
    keys: 'Enter, Esc, Backspace',
    keyTest: (press) => {
      const key = plainKey(press);
      return key === 'Enter' || key === 'Escape' || key === 'Backspace' ? { key } : null;
    },
    // Escape belongs to the tool first (cancel a stroke, drop a polygon); unused, it leaves the image.
    perform: (screen, { key }) => {
      if (screen.session?.key(key)) return screen.canvas?.drawPreview();
      if (key === 'Escape') ACTIONS.close.perform(screen, {});
    },
  },
  close: {
    name: 'close',
    title: 'Back to the grid',
    keys: 'Esc',
    keyTest: () => null, // Escape reaches it through toolKey, once the tool has no use for it
    perform: (screen) => screen.close(),
  },
  next: {
    name: 'next',
    title: 'Next image',
    keys: '→ or D',
    keyTest: (press) => (plainKey(press) === 'ArrowRight' || letter(press) === 'd' ? {} : null),
    perform: (screen) => screen.go(1),
    ignoredOn: 'slider',
  },
  previous: {
    name: 'previous',
    title: 'Previous image',
    keys: '← or A',
    keyTest: (press) => (plainKey(press) === 'ArrowLeft' || letter(press) === 'a' ? {} : null),
    perform: (screen) => screen.go(-1),
    ignoredOn: 'slider',
  },
  fit: {
    name: 'fit',
    title: 'Fit to window',
    keys: 'F',
    keyTest: onLetter('f', false),
    perform: ({ canvas }) => canvas?.fit(),
  },
  actualSize: {
    name: 'actualSize',
    title: 'Actual size',
    keys: 'Shift+F',
    keyTest: onLetter('f', true),
    perform: ({ canvas }) => canvas?.zoomBy(1 / canvas.getView().scale),
  },
  zoom: {
    name: 'zoom',
    title: 'Zoom in or out',
    keys: '+ −',
    keyTest: (press) => {
      const key = plainKey(press);
      return key === '+' || key === '=' ? { factor: ZOOM_STEP } : key === '-' ? { factor: 1 / ZOOM_STEP } : null;
    },
    perform: ({ canvas }, { factor }) => canvas?.zoomBy(factor),
  },
  toggleCorrection: {
    name: 'toggleCorrection',
    title: 'Show or hide the correction',
    keys: 'O',
    keyTest: onLetter('o'),
    perform: (screen) => screen.toggleCorrection(),
  },
  peek: {
    name: 'peek',
    title: 'Hold to see the bare image',
    keys: 'H',
    keyTest: onLetter('h'),
    perform: (screen) => screen.setPeek(true),
    release: { keys: ['h', 'H'], perform: (screen) => screen.setPeek(false) },
  },
  pan: {
    name: 'pan',
    title: 'Hold to pan with the left button',
    keys: 'Space',
    keyTest: onKey(' '),
    perform: ({ canvas }) => canvas?.setSpaceHeld(true),
    release: { keys: [' '], perform: ({ canvas }) => canvas?.setSpaceHeld(false) },
    ignoredOn: 'control',
  },
  nextRegion: {
    name: 'nextRegion',
    title: 'Next hardest region',
    keys: 'N',
    keyTest: onLetter('n'),
    perform: (screen) => screen.nextRegion(),
  },
  regionLock: {
    name: 'regionLock',
    title: 'Paint only inside the region',
    keys: 'R',
    keyTest: onLetter('r'),
    perform: (screen) => screen.toggleRegionLock(),
  },
};

/** Every action, in the order the key map tries them. */
export const ACTION_LIST: readonly EditorAction<ActionName>[] = Object.values(ACTIONS) as EditorAction<ActionName>[];

/** Runs one invocation (from the key map or a button). */
export function perform(screen: ScreenControls, invocation: KeyAction): void {
  const action = ACTIONS[invocation.kind] as EditorAction<ActionName>;
  action.perform(screen, invocation as never);
}

/** A button's tooltip: the action's title (or `title`) and its keys. */
export function actionTitle(name: ActionName, title?: string): string {
  const action = ACTIONS[name];
  return `${title ?? action.title} (${action.keys})`;
}
