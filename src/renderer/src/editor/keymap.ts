// Every key the editor screen answers, found from the actions (actions.ts): one pure function from a key
// press to the action it triggers with its arguments, tested without a browser.
import type { ToolName } from '../canvas/tools';
import { ACTION_LIST, TOOL_KEYS, type KeyAction, type KeyPress } from './actions';

export type { KeyAction, KeyPress } from './actions';
export { TOOL_KEYS } from './actions';

export const TOOL_HOTKEY: Record<ToolName, string> = Object.fromEntries(Object.entries(TOOL_KEYS).map(([k, t]) => [t, k.toUpperCase()])) as Record<ToolName, string>;

/** Classes 0–9 on the digit keys 1…9, 0; classes 10–18 on Shift+1…9. */
export function classHotkey(classId: number): string {
  if (classId <= 9) return String((classId + 1) % 10);
  return `⇧${classId - 9}`;
}

export function keyAction(press: KeyPress): KeyAction | null {
  for (const action of ACTION_LIST) {
    const args = action.keyTest(press);
    if (args) return { kind: action.name, ...args } as KeyAction;
  }
  return null;
}

/** The held action whose key was released, if any. */
export function releasedAction(key: string) {
  return ACTION_LIST.find((action) => action.release?.keys.includes(key)) ?? null;
}
