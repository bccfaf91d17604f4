// One image at a time: RGB with the ground truth overlaid, wheel zoom about the cursor, drag (or space-drag) to pan,
// and keys for next / previous / fit / 1:1 / overlay. Zoom and pan math lives in zoomPan.ts.
import { useEffect, useEffectEvent, useRef, useState, type PointerEvent } from 'react';
import type { ImageSummary } from '../../../shared/api';
import { imageUrl } from '../api/connect';
import { ClassLegend } from './ClassLegend';
import { actualSizeView, fitView, formatZoom, panBy, wheelZoomFactor, zoomAbout, type Size, type View } from './zoomPan';

interface ImageViewProps {
  /** The current filtered order; next / previous walk through it. */
  images: ImageSummary[];
  index: number;
  onNavigate: (imageId: number) => void;
  onClose: () => void;
}

interface Drag {
  pointerId: number;
  startX: number;
  startY: number;
  startView: View;
}

const BUTTON_ZOOM_STEP = 1.25;

export function ImageView({ images, index, onNavigate, onClose }: ImageViewProps) {
  const image = images[index]!;
  const viewportRef = useRef<HTMLDivElement>(null);
  const drag = useRef<Drag | null>(null);
  const [viewportSize, setViewportSize] = useState<Size>({ width: 0, height: 0 });
  /** A zoom / pan the user chose, remembered for one image; any other image starts fitted. */
  const [userView, setUserView] = useState<{ imageId: number; view: View } | null>(null);
  const [overlayOn, setOverlayOn] = useState(true);
  const [opacity, setOpacity] = useState(0.5);
  const [panning, setPanning] = useState(false);
  const [spaceHeld, setSpaceHeld] = useState(false);
  const [failedImageId, setFailedImageId] = useState<number | null>(null);

  const imageSize = { width: image.width, height: image.height };
  const view = userView?.imageId === image.id ? userView.view : fitView(imageSize, viewportSize);
  const setView = (next: View) => setUserView({ imageId: image.id, view: next });
  const viewportCentre = { x: viewportSize.width / 2, y: viewportSize.height / 2 };

  const fit = () => setUserView(null);
  const actualSize = () => setView(actualSizeView(view, viewportSize));
  const zoomBy = (factor: number) => setView(zoomAbout(view, factor, viewportCentre));

  function go(delta: number) {
    const next = images[Math.max(0, Math.min(images.length - 1, index + delta))];
    if (next && next.id !== image.id) onNavigate(next.id);
  }

  useEffect(() => {
    const element = viewportRef.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setViewportSize({ width: entry.contentRect.width, height: entry.contentRect.height });
    });
    observer.observe(element);
    element.focus({ preventScroll: true });
    return () => observer.disconnect();
  }, []);

  const onWheel = useEffectEvent((event: WheelEvent) => {
    event.preventDefault();
    const bounds = viewportRef.current!.getBoundingClientRect();
    const anchor = { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
    setView(zoomAbout(view, wheelZoomFactor(event.deltaY, event.deltaMode), anchor));
  });

  useEffect(() => {
    const element = viewportRef.current;
    if (!element) return;
    // Registered by hand: React's onWheel is passive and could not stop the page from scrolling.
    const listener = (event: WheelEvent) => onWheel(event);
    element.addEventListener('wheel', listener, { passive: false });
    return () => element.removeEventListener('wheel', listener);
  }, []);

  const onKeyDown = useEffectEvent((event: KeyboardEvent) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isTextEntry(event.target)) return;
    const onSlider = event.target instanceof HTMLInputElement && event.target.type === 'range';
    const handled = (action: () => void) => {
      event.preventDefault();
      action();
    };
    switch (event.key) {
      case 'ArrowRight':
        if (!onSlider) handled(() => go(1));
        return;
      case 'ArrowLeft':
        if (!onSlider) handled(() => go(-1));
        return;
      case 'd':
      case 'D':
        return handled(() => go(1));
      case 'a':
      case 'A':
        return handled(() => go(-1));
      case 'Escape':
        return handled(onClose);
      case 'o':
      case 'O':
        return handled(() => setOverlayOn((on) => !on));
      case '0':
      case 'f':
      case 'F':
        return handled(fit);
      case '1':
        return handled(actualSize);
      case '+':
      case '=':
        return handled(() => zoomBy(BUTTON_ZOOM_STEP));
      case '-':
        return handled(() => zoomBy(1 / BUTTON_ZOOM_STEP));
      case ' ':
        if (!isInteractive(event.target)) handled(() => setSpaceHeld(true));
        return;
    }
  });

  const onKeyUp = useEffectEvent((event: KeyboardEvent) => {
    if (event.key === ' ') setSpaceHeld(false);
  });

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

  // Warm the browser cache for the neighbours so next / previous feel instant.
  useEffect(() => {
    for (const neighbour of [images[index + 1], images[index - 1]]) {
      if (!neighbour) continue;
      new Image().src = imageUrl(neighbour.id, 'rgb');
      if (neighbour.hasLabels) new Image().src = imageUrl(neighbour.id, 'label');
    }
  }, [images, index]);

  function onPointerDown(event: PointerEvent<HTMLDivElement>) {
    if (event.button !== 0 && event.button !== 1) return;
    event.preventDefault();
    event.currentTarget.focus({ preventScroll: true });
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { pointerId: event.pointerId, startX: event.clientX, startY: event.clientY, startView: view };
    setPanning(true);
  }

  function onPointerMove(event: PointerEvent<HTMLDivElement>) {
    const current = drag.current;
    if (!current || current.pointerId !== event.pointerId) return;
    setView(panBy(current.startView, event.clientX - current.startX, event.clientY - current.startY));
  }

  function endDrag(event: PointerEvent<HTMLDivElement>) {
    if (drag.current?.pointerId !== event.pointerId) return;
    drag.current = null;
    setPanning(false);
  }

  const showOverlay = image.hasLabels && overlayOn;
  const pixelated = view.scale > 2;

  return (
    <section className="image-view" data-testid="image-view" aria-label="Image view">
      <div className="toolbar image-view__toolbar">
        <button type="button" className="button" data-testid="image-view-close" title="Back to the grid (Esc)" onClick={onClose}>
          ← Grid
        </button>
        <div className="button-group">
          <button type="button" className="button" data-testid="image-prev" title="Previous image (← or A)" disabled={index === 0} onClick={() => go(-1)}>
            ‹
          </button>
          <button
            type="button"
            className="button"
            data-testid="image-next"
            title="Next image (→ or D)"
            disabled={index === images.length - 1}
            onClick={() => go(1)}
          >
            ›
          </button>
        </div>
        <h2 className="image-view__title" data-testid="image-title">
          <span className="image-view__position">
            {index + 1} / {images.length}
          </span>{' '}
          <span className="image-view__name">{image.name}</span>{' '}
          <span className="image-view__meta">
            {image.split} · {image.city} · {image.width}×{image.height}
          </span>
        </h2>
        <span className="toolbar__spacer" />
        <label className="field field--inline field--checkbox" title={image.hasLabels ? 'Show the ground truth (O)' : 'This image has no ground truth'}>
          <input
            type="checkbox"
            data-testid="overlay-toggle"
            checked={overlayOn}
            disabled={!image.hasLabels}
            onChange={(event) => setOverlayOn(event.target.checked)}
          />
          <span>Ground truth</span>
        </label>
        <label className="field field--inline" title="Overlay opacity">
          <input
            type="range"
            data-testid="overlay-opacity"
            min={0}
            max={1}
            step={0.05}
            value={opacity}
            disabled={!image.hasLabels}
            aria-label="Overlay opacity"
            onChange={(event) => setOpacity(Number(event.target.value))}
          />
          <span className="field__value">{Math.round(opacity * 100)}%</span>
        </label>
        <div className="button-group" role="group" aria-label="Zoom">
          <button type="button" className="button" data-testid="zoom-out" title="Zoom out (−)" onClick={() => zoomBy(1 / BUTTON_ZOOM_STEP)}>
            −
          </button>
          <span className="zoom-level" data-testid="zoom-level" aria-live="polite">
            {formatZoom(view.scale)}
          </span>
          <button type="button" className="button" data-testid="zoom-in" title="Zoom in (+)" onClick={() => zoomBy(BUTTON_ZOOM_STEP)}>
            +
          </button>
          <button type="button" className="button" data-testid="zoom-fit" title="Fit to window (0 or F)" onClick={fit}>
            Fit
          </button>
          <button type="button" className="button" data-testid="zoom-actual" title="Actual size (1)" onClick={actualSize}>
            1:1
          </button>
        </div>
      </div>
      <div className="image-view__body">
        <div
          ref={viewportRef}
          className={`image-view__viewport${panning ? ' is-panning' : spaceHeld ? ' is-space-held' : ''}`}
          data-testid="image-viewport"
          tabIndex={0}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={endDrag}
          onPointerCancel={endDrag}
        >
          <div
            className="image-view__stage"
            style={{
              width: image.width,
              height: image.height,
              transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})`,
              imageRendering: pixelated ? 'pixelated' : 'auto',
            }}
          >
            <img
              className="image-view__rgb"
              src={imageUrl(image.id, 'rgb')}
              alt={image.name}
              draggable={false}
              onError={() => setFailedImageId(image.id)}
            />
            {showOverlay && (
              <img
                className="image-view__overlay"
                data-testid="overlay"
                src={imageUrl(image.id, 'label')}
                alt="Ground truth"
                draggable={false}
                style={{ opacity }}
                onError={() => setFailedImageId(image.id)}
              />
            )}
          </div>
          {failedImageId === image.id && (
            <p className="image-view__note image-view__note--error" role="alert">
              Could not load this image from the workbench server; check that its dataset folder is still there.
            </p>
          )}
          {!image.hasLabels && <p className="image-view__note">No ground truth for this image.</p>}
        </div>
        <ClassLegend />
      </div>
      <footer className="image-view__hints muted">
        Wheel: zoom · drag or space-drag: pan · ← → / A D: previous / next · O: overlay · 0 / F: fit · 1: 1:1 · Esc: grid
      </footer>
    </section>
  );
}

function isTextEntry(target: EventTarget | null): boolean {
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'button'].includes(target.type);
}

function isInteractive(target: EventTarget | null): boolean {
  return target instanceof HTMLButtonElement || target instanceof HTMLInputElement || target instanceof HTMLSelectElement;
}
