// The canvas's bottom layer: the RGB image and the read-only overlays over it (round layers, depth, ground
// truth), each loaded once from its URL and reported when drawn.
import Konva from 'konva';
import type { Size } from './zoomPan';

export interface OverlaySpec {
  id: string;
  url: string;
  visible: boolean;
  opacity: number;
}

export class ImageLayers {
  readonly layer = new Konva.Layer({ listening: false });
  private readonly rgb = new Konva.Image({ image: undefined, x: 0, y: 0 });
  /** By id + URL, so a layer of another round or image is a new node. */
  private readonly overlays = new Map<string, Konva.Image>();
  private size: Size = { width: 0, height: 0 };
  private peek = false;

  /** `onLoaded`: the ids of the layers drawn so far ('rgb' and overlay ids), after each change. */
  constructor(private readonly onLoaded: (ids: string[]) => void) {
    this.layer.add(this.rgb);
  }

  setImage(size: Size, rgbUrl: string): void {
    this.size = size;
    this.rgb.size(size);
    this.rgb.image(undefined);
    // Overlays may have been created before the image's size was known (the ground truth, ticked by default, is
    // set before the rounds are listed and setImage runs); without this they stay zero-sized, loaded but undrawn.
    for (const node of this.overlays.values()) node.size(size);
    this.layer.batchDraw();
    loadImage(rgbUrl).then((img) => {
      if (this.size === size) {
        this.rgb.image(img);
        this.layer.batchDraw();
        this.reportLoaded();
      }
    }, () => undefined);
    this.reportLoaded();
  }

  /** Read-only layers over the RGB, bottom to top. Loads each URL once; hidden ones are not fetched. */
  setOverlays(specs: readonly OverlaySpec[]): void {
    const wanted = new Set(specs.map((s) => s.id + s.url));
    for (const [key, node] of this.overlays) {
      if (!wanted.has(key)) {
        node.destroy();
        this.overlays.delete(key);
      }
    }
    for (const spec of specs) {
      const key = spec.id + spec.url;
      let node = this.overlays.get(key);
      if (!node && spec.visible) {
        const created = new Konva.Image({ image: undefined, ...this.size, name: spec.id });
        node = created;
        this.overlays.set(key, created);
        this.layer.add(created);
        loadImage(spec.url).then(
          (img) => {
            created.image(img);
            created.size(this.size);
            this.layer.batchDraw();
            this.reportLoaded();
          },
          () => undefined,
        );
      }
      if (!node) continue;
      node.size(this.size);
      node.visible(spec.visible);
      node.setAttr('chosenOpacity', spec.opacity);
      node.opacity(this.peek ? 0 : spec.opacity);
      node.moveToTop();
    }
    this.layer.batchDraw();
    this.reportLoaded();
  }

  /** Hold-to-peek: every overlay transparent, the bare image shows. */
  setPeek(peek: boolean): void {
    this.peek = peek;
    for (const node of this.overlays.values()) node.opacity(peek ? 0 : Number(node.getAttr('chosenOpacity') ?? 1));
    this.layer.visible(true);
    this.layer.batchDraw();
  }

  private reportLoaded(): void {
    const ids = this.rgb.image() ? ['rgb'] : [];
    for (const node of this.overlays.values()) if (node.image()) ids.push(node.name());
    this.onLoaded(ids);
  }
}

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`Could not load ${url}`));
    img.src = url;
  });
}
