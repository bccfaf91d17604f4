// Pure zoom and pan math for the image view. A view maps image pixels to viewport pixels:
// viewportPoint = offset + imagePoint * scale (CSS `translate(x, y) scale(s)` with transform-origin 0 0).

export interface Size {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface View {
  scale: number;
  x: number;
  y: number;
}

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 32;

export function clampScale(scale: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

/** The whole image, centred, as large as fits inside the viewport less a margin on each side. */
export function fitView(image: Size, viewport: Size, margin = 8): View {
  if (image.width <= 0 || image.height <= 0) return { scale: 1, x: 0, y: 0 };
  const room = { width: Math.max(1, viewport.width - 2 * margin), height: Math.max(1, viewport.height - 2 * margin) };
  const scale = clampScale(Math.min(room.width / image.width, room.height / image.height));
  return centredView(image, viewport, scale);
}

/** One image pixel per screen pixel, keeping the viewport centre on the same image point as `current`. */
export function actualSizeView(current: View, viewport: Size): View {
  return zoomAbout(current, 1 / current.scale, { x: viewport.width / 2, y: viewport.height / 2 });
}

export function centredView(image: Size, viewport: Size, scale: number): View {
  return {
    scale,
    x: (viewport.width - image.width * scale) / 2,
    y: (viewport.height - image.height * scale) / 2,
  };
}

/** Multiplies the scale by `factor` while the image point under `anchor` (viewport pixels) stays put. */
export function zoomAbout(view: View, factor: number, anchor: Point): View {
  const scale = clampScale(view.scale * factor);
  const applied = scale / view.scale;
  return {
    scale,
    x: anchor.x - (anchor.x - view.x) * applied,
    y: anchor.y - (anchor.y - view.y) * applied,
  };
}

export function panBy(view: View, dx: number, dy: number): View {
  return { scale: view.scale, x: view.x + dx, y: view.y + dy };
}

/** Zoom factor for one wheel event: smooth for trackpads, about 1.2x per mouse-wheel notch. */
export function wheelZoomFactor(deltaY: number, deltaMode = 0): number {
  const pixels = deltaMode === 1 ? deltaY * 40 : deltaMode === 2 ? deltaY * 800 : deltaY;
  const clamped = Math.max(-300, Math.min(300, pixels));
  return Math.exp(-clamped * 0.0018);
}

/** The image pixel under a viewport point. */
export function toImagePoint(view: View, point: Point): Point {
  return { x: (point.x - view.x) / view.scale, y: (point.y - view.y) / view.scale };
}

export function formatZoom(scale: number): string {
  const percent = scale * 100;
  return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}
