// Which layers show over the image, and how strongly. The correction is the one layer that can be edited.
export interface LayerSetting {
  visible: boolean;
  opacity: number;
}

export interface LayerRow {
  id: string;
  label: string;
  /** Why the layer is unavailable for this image, if it is. */
  unavailable?: string;
}

interface LayersPanelProps {
  rows: readonly LayerRow[];
  settings: Readonly<Record<string, LayerSetting>>;
  onChange: (id: string, setting: LayerSetting) => void;
}

export function LayersPanel({ rows, settings, onChange }: LayersPanelProps) {
  return (
    <section className="layers" aria-label="Layers" data-testid="layers-panel">
      <h3 className="panel__title">Layers <span className="muted">(hold H: bare image)</span></h3>
      <ul>
        {rows.map((row) => {
          const setting = settings[row.id] ?? { visible: false, opacity: 0.6 };
          const disabled = row.unavailable !== undefined;
          return (
            <li key={row.id} className="layers__item" title={row.unavailable}>
              <label className="layers__toggle">
                <input
                  type="checkbox"
                  data-testid={`layer-toggle-${row.id}`}
                  checked={setting.visible && !disabled}
                  disabled={disabled}
                  onChange={(event) => onChange(row.id, { ...setting, visible: event.target.checked })}
                />
                <span>{row.label}</span>
              </label>
              <input
                type="range"
                className="layers__opacity"
                data-testid={`layer-opacity-${row.id}`}
                aria-label={`${row.label} opacity`}
                min={0}
                max={1}
                step={0.05}
                value={setting.opacity}
                disabled={disabled || !setting.visible}
                onChange={(event) => onChange(row.id, { ...setting, opacity: Number(event.target.value) })}
              />
            </li>
          );
        })}
      </ul>
    </section>
  );
}
