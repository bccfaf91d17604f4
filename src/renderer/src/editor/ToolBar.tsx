// The editor's tool row: tools with their hotkeys, brush size, undo / redo, and the three-way comparison.
// Buttons perform the same actions as the keys (actions.ts).
import { BRUSH_SIZES, type SessionSnapshot } from '../canvas/session';
import type { ToolName } from '../canvas/tools';
import { actionTitle, type KeyAction } from './actions';
import { TOOL_HOTKEY } from './keymap';

const TOOLS: { name: ToolName; label: string; help: string }[] = [
  { name: 'brush', label: 'Brush', help: 'Paint the selected class' },
  { name: 'eraser', label: 'Eraser', help: "Restore the model's label" },
  { name: 'ignore', label: 'Ignore', help: 'Mark pixels as ignore (255)' },
  { name: 'fill', label: 'Fill', help: 'Fill the connected region under the cursor' },
  { name: 'polygon', label: 'Polygon', help: 'Click vertices; click the first one, double-click or Enter to fill' },
  { name: 'lasso', label: 'Lasso', help: 'Drag an outline; release to fill' },
  { name: 'superpixel', label: 'Superpixel', help: 'Fill the superpixels you click or drag over' },
  { name: 'second-choice', label: '2nd choice', help: "Swap a superpixel to the model's second most likely class" },
];

interface ToolBarProps {
  snapshot: SessionSnapshot;
  run: (action: KeyAction) => void;
  onBrushSize: (size: number) => void;
  compare: boolean;
  onCompare: (on: boolean) => void;
}

export function ToolBar({ snapshot, run, onBrushSize, compare, onCompare }: ToolBarProps) {
  const ready = snapshot.phase === 'ready';
  const unavailable = (name: ToolName): string | null => {
    if (name === 'superpixel' && !snapshot.hasSuperpixels) return 'Needs a round that stored superpixels';
    if (name === 'second-choice' && !snapshot.hasSecond) return "Needs a round that stored the model's second choice";
    return null;
  };
  return (
    <div className="toolbar editor-tools" role="toolbar" aria-label="Editing tools" data-testid="editor-tools">
      <div className="button-group">
        {TOOLS.map((tool) => {
          const why = unavailable(tool.name);
          return (
            <button
              key={tool.name}
              type="button"
              className={`button${snapshot.tool === tool.name ? ' is-active' : ''}`}
              data-testid={`tool-${tool.name}`}
              aria-pressed={snapshot.tool === tool.name}
              disabled={!ready || why !== null}
              title={why ?? `${tool.help} (${TOOL_HOTKEY[tool.name]})`}
              onClick={() => run({ kind: 'tool', tool: tool.name })}
            >
              {tool.label}
            </button>
          );
        })}
      </div>
      <label className="field field--inline" title="Brush size in image pixels ([ and ])">
        <span>Size</span>
        <input
          type="range"
          data-testid="brush-size"
          min={BRUSH_SIZES.min}
          max={BRUSH_SIZES.max}
          value={snapshot.brushSize}
          onChange={(event) => onBrushSize(Number(event.target.value))}
        />
        <span className="field__value">{snapshot.brushSize}px</span>
      </label>
      <div className="button-group">
        <button type="button" className="button" data-testid="undo" disabled={!ready || !snapshot.save?.canUndo} title={actionTitle('undo')} onClick={() => run({ kind: 'undo' })}>
          Undo
        </button>
        <button type="button" className="button" data-testid="redo" disabled={!ready || !snapshot.save?.canRedo} title={actionTitle('redo')} onClick={() => run({ kind: 'redo' })}>
          Redo
        </button>
      </div>
      <label className="field field--inline field--checkbox" title="Pseudo-label, correction and the newest round's prediction side by side">
        <input type="checkbox" data-testid="compare-toggle" checked={compare} onChange={(event) => onCompare(event.target.checked)} />
        <span>Compare</span>
      </label>
    </div>
  );
}
