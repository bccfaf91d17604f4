// The canvas's top layer: the brush cursor, the tool's preview path (polygon, lasso) and the queued region's
// outline or shape.
import Konva from 'konva';
import { makeCanvas } from './correctionLayer';
import { regionShapeWords, type RegionShape } from './labelPaint';
import type { ToolPreview } from './tools';
import type { Point } from './zoomPan';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export class ToolLayer {
  readonly layer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
  private readonly cursor = new Konva.Circle({ radius: 5, stroke: '#fff', strokeWidth: 1.5, strokeScaleEnabled: false, visible: false, shadowColor: '#000', shadowBlur: 2 });
  private readonly path = new Konva.Line({ points: [], stroke: '#ffeb3b', strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4], visible: false });
  private readonly regionMask = new Konva.Image({ image: undefined, visible: false });
  private readonly region = new Konva.Rect({ stroke: '#00e5ff', strokeWidth: 2, strokeScaleEnabled: false, dash: [8, 4], visible: false });

  constructor() {
    this.layer.add(this.regionMask, this.region, this.path, this.cursor);
  }

  /** The cursor circle at an image point with a radius in image pixels, or hidden (null). */
  setCursor(cursor: { at: Point; radius: number } | null): void {
    this.cursor.visible(cursor !== null);
    if (!cursor) return;
    this.cursor.position(cursor.at);
    this.cursor.radius(cursor.radius);
  }

  setPreview(preview: ToolPreview): void {
    this.path.visible(preview !== null);
    if (preview) {
      this.path.points(preview.points.flatMap((p) => [p.x, p.y]));
      this.path.closed(preview.closed);
    }
  }

  get showsPreview(): boolean {
    return this.path.visible();
  }

  /** The region's box outline, or with its superpixels its own shape tinted and edged; null hides it. */
  setRegion(box: Box | null, shape: RegionShape | null): void {
    this.region.visible(box !== null && shape === null);
    this.regionMask.visible(box !== null && shape !== null);
    if (!box) return;
    this.region.setAttrs(box);
    if (shape) this.regionMask.setAttrs({ image: shapeCanvas(box, shape), ...box });
  }
}

function shapeCanvas(box: Box, shape: RegionShape): HTMLCanvasElement {
  const canvas = makeCanvas(box.width, box.height);
  const image = new ImageData(box.width, box.height);
  new Uint32Array(image.data.buffer).set(regionShapeWords(box, shape));
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  return canvas;
}
