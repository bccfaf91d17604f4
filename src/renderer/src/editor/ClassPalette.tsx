// The class palette: pick the class to paint (click or its hotkey) and lock classes so strokes leave them alone.
import { IGNORE, TRAIN_CLASSES } from '../../../shared/labels';
import { classHotkey } from './keymap';

interface ClassPaletteProps {
  selected: number;
  protectedClasses: readonly number[];
  editable: boolean;
  onSelect: (classId: number) => void;
  onToggleProtected: (classId: number) => void;
}

export function ClassPalette({ selected, protectedClasses, editable, onSelect, onToggleProtected }: ClassPaletteProps) {
  const locked = new Set(protectedClasses);
  const rows = [...TRAIN_CLASSES.map((c) => ({ id: c.trainId, name: c.name, color: `rgb(${c.color.join(',')})`, hotkey: classHotkey(c.trainId) })), { id: IGNORE, name: 'ignore', color: 'transparent', hotkey: 'I brush' }];
  return (
    <section className="palette" aria-label="Classes" data-testid="class-palette">
      <h3 className="panel__title">Classes</h3>
      <ul>
        {rows.map((row) => (
          <li key={row.id} className={`palette__item${row.id === selected ? ' is-selected' : ''}`}>
            <button
              type="button"
              className="palette__pick"
              data-testid={`class-${row.id}`}
              aria-pressed={row.id === selected}
              disabled={!editable || row.id === IGNORE}
              title={row.id === IGNORE ? 'Use the ignore brush (I) to mark pixels as ignore' : `Paint ${row.name} (${row.hotkey})`}
              onClick={() => onSelect(row.id)}
            >
              <span className={`palette__swatch${row.id === IGNORE ? ' palette__swatch--ignore' : ''}`} style={{ backgroundColor: row.color }} />
              <span className="palette__name">{row.name}</span>
              <kbd className="palette__key">{row.hotkey}</kbd>
            </button>
            <button
              type="button"
              className={`palette__lock${locked.has(row.id) ? ' is-locked' : ''}`}
              data-testid={`protect-${row.id}`}
              aria-pressed={locked.has(row.id)}
              disabled={!editable}
              title={locked.has(row.id) ? `Unlock ${row.name}: strokes may change it again` : `Protect ${row.name}: strokes leave its pixels alone`}
              onClick={() => onToggleProtected(row.id)}
            >
              <Padlock closed={locked.has(row.id)} />
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A padlock drawn inline: emoji fonts are not on every machine. */
function Padlock({ closed }: { closed: boolean }) {
  return (
    <svg width="10" height="12" viewBox="0 0 10 12" aria-hidden="true">
      <path d={closed ? 'M2.5 5.5V3.5a2.5 2.5 0 0 1 5 0v2' : 'M2.5 5.5V3.5a2.5 2.5 0 0 1 5 0'} fill="none" stroke="currentColor" strokeWidth="1.3" />
      <rect x="1" y="5.5" width="8" height="6" rx="1" fill="currentColor" />
    </svg>
  );
}
