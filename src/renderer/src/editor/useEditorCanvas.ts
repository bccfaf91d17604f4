// The Konva canvas for the screen's lifetime, in the viewport element: the view it reports, and the class and
// provenance under the pointer written straight into the readout (no re-render per pointer move).
import { useEffect, useState, type RefObject } from 'react';
import { IGNORE, TRAIN_CLASSES } from '../../../shared/labels';
import { LabelCanvas } from '../canvas/labelCanvas';
import type { EditorSession } from '../canvas/session';
import type { View } from '../canvas/zoomPan';

export function useEditorCanvas(viewportRef: RefObject<HTMLDivElement | null>, hoverRef: RefObject<HTMLSpanElement | null>, sessionRef: RefObject<EditorSession | null>) {
  const [canvas, setCanvas] = useState<LabelCanvas | null>(null);
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });

  useEffect(() => {
    const element = viewportRef.current!;
    const created = new LabelCanvas(element, {
      onView: setView,
      onHover: (point) => {
        const span = hoverRef.current;
        if (!span) return;
        const planes = sessionRef.current?.planes;
        if (!point || !planes) {
          span.textContent = '';
          return;
        }
        const i = Math.floor(point.y) * planes.width + Math.floor(point.x);
        const label = planes.labels[i]!;
        const name = label === IGNORE ? 'ignore' : (TRAIN_CLASSES[label]?.name ?? `class ${label}`);
        span.textContent = `${Math.floor(point.x)}, ${Math.floor(point.y)} · ${name}${planes.human[i] ? ' (edited)' : ''}`;
      },
      onToolChanged: () => sessionRef.current?.toolChanged(),
      onLayersLoaded: (ids) => viewportRef.current?.setAttribute('data-layers-loaded', ids.join(',')),
    });
    setCanvas(created);
    const page = window as unknown as { cordaEditorPerf?: () => unknown; cordaEditorPerfReset?: () => void };
    page.cordaEditorPerf = () => created.perf.summary();
    page.cordaEditorPerfReset = () => created.perf.reset();
    element.focus({ preventScroll: true });
    return () => created.destroy();
  }, [viewportRef, hoverRef, sessionRef]);

  return { canvas, view };
}
