// The canvas's correction layer: the label map in the palette's colours and the edited-pixels mark, each an
// image-sized offscreen canvas repainted by dirty rectangle from the map (the map is the truth).
import Konva from 'konva';
import { paintLabelWords } from './labelPaint';
import type { EditorPlanes, Rect } from './stroke';

export interface CorrectionStyle {
  visible: boolean;
  opacity: number;
  showHuman: boolean;
  /** Hold-to-peek hides the correction too. */
  peek: boolean;
}

interface Surfaces {
  planes: EditorPlanes;
  labels: { canvas: HTMLCanvasElement; image: ImageData; words: Uint32Array };
  human: { canvas: HTMLCanvasElement; image: ImageData; words: Uint32Array };
}

export class CorrectionLayer {
  readonly layer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
  private readonly labelsNode = new Konva.Image({ image: undefined, x: 0, y: 0 });
  private readonly humanNode = new Konva.Image({ image: undefined, x: 0, y: 0, visible: false });
  private surfaces: Surfaces | null = null;

  constructor() {
    this.layer.add(this.labelsNode, this.humanNode);
  }

  get hasPlanes(): boolean {
    return this.surfaces !== null;
  }

  /** The label map to show (null: none, e.g. while loading). Paints it whole once. */
  setPlanes(planes: EditorPlanes | null): void {
    if (!planes) {
      this.surfaces = null;
      this.labelsNode.image(undefined);
      this.humanNode.image(undefined);
      this.layer.batchDraw();
      return;
    }
    const { width, height } = planes;
    this.surfaces = { planes, labels: surface(width, height), human: surface(width, height) };
    this.labelsNode.setAttrs({ image: this.surfaces.labels.canvas, width, height });
    this.humanNode.setAttrs({ image: this.surfaces.human.canvas, width, height });
    this.paint({ x0: 0, y0: 0, x1: width - 1, y1: height - 1 });
    this.layer.batchDraw();
  }

  setStyle(style: CorrectionStyle): void {
    this.labelsNode.visible(style.visible && !style.peek);
    this.labelsNode.opacity(style.opacity);
    this.humanNode.visible(style.showHuman && !style.peek);
    this.layer.batchDraw();
  }

  /** Repaints a rectangle of both canvases from the map. */
  paint(rect: Rect): void {
    const s = this.surfaces;
    if (!s) return;
    const painted = paintLabelWords(s.planes, s.labels.words, s.human.words, rect);
    if (!painted) return;
    const w = painted.x1 - painted.x0 + 1;
    const h = painted.y1 - painted.y0 + 1;
    s.labels.canvas.getContext('2d')!.putImageData(s.labels.image, 0, 0, painted.x0, painted.y0, w, h);
    s.human.canvas.getContext('2d')!.putImageData(s.human.image, 0, 0, painted.x0, painted.y0, w, h);
  }
}

function surface(width: number, height: number) {
  const canvas = makeCanvas(width, height);
  const image = new ImageData(width, height);
  return { canvas, image, words: new Uint32Array(image.data.buffer) };
}

export function makeCanvas(width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}
