// The editor screen's keyboard: each key press finds its action in the key map and performs it on the screen;
// held actions (peek, pan) end when their key goes up. Text fields keep their keys.
import { useEffect, useEffectEvent } from 'react';
import { ACTIONS, perform, type ScreenControls } from './actions';
import { keyAction, releasedAction } from './keymap';

export function useEditorKeys(screen: ScreenControls): void {
  const onKeyDown = useEffectEvent((event: KeyboardEvent) => {
    if (isTextEntry(event.target)) return;
    const action = keyAction({ key: event.key, code: event.code, ctrl: event.ctrlKey || event.metaKey, shift: event.shiftKey, alt: event.altKey });
    if (!action) return;
    const { ignoredOn } = ACTIONS[action.kind];
    if (ignoredOn === 'slider' && event.target instanceof HTMLInputElement && event.target.type === 'range') return;
    if (ignoredOn === 'control' && isInteractive(event.target)) return;
    event.preventDefault();
    perform(screen, action);
  });
  const onKeyUp = useEffectEvent((event: KeyboardEvent) => releasedAction(event.key)?.release?.perform(screen));
  useEffect(() => {
    const down = (event: KeyboardEvent) => onKeyDown(event);
    const up = (event: KeyboardEvent) => onKeyUp(event);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, []);
}

function isTextEntry(target: EventTarget | null): boolean {
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'button'].includes(target.type);
}

function isInteractive(target: EventTarget | null): boolean {
  return target instanceof HTMLButtonElement || target instanceof HTMLInputElement || target instanceof HTMLSelectElement;
}
