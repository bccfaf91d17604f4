import { TRAIN_CLASSES } from '../../../shared/labels';

/** The 19 Cityscapes training classes with their palette colours. */
export function ClassLegend() {
  return (
    <aside className="legend" aria-label="Class legend" data-testid="class-legend">
      <h3 className="legend__title">Classes</h3>
      <ul>
        {TRAIN_CLASSES.map((cls) => (
          <li key={cls.trainId} className="legend__item">
            <span className="legend__swatch" style={{ backgroundColor: `rgb(${cls.color.join(',')})` }} />
            <span className="legend__name">{cls.name}</span>
            <span className="legend__id">{cls.trainId}</span>
          </li>
        ))}
      </ul>
    </aside>
  );
}
