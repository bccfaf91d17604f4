// Rasterises a demo scene into colour, Cityscapes labelIds and metric depth, all from the same pass: every
// pixel's label and depth come from the surface whose colour was written there, so the three always agree.
// Ground and sky are ray-cast per pixel; every other surface is a vertical planar panel (building faces, vehicle
// faces, billboards for people, poles, trees...) rasterised column by column with a z-buffer. A vertical plane
// seen through one image column has one depth, so a panel is a run of rows per column at a known depth.

import { TRAIN_CLASSES, VOID_LABEL_IDS } from '../../../shared/labels';
import { hash2, hashSeed, Rng } from '../../random';
import type { Scene, SceneObject } from './scene';

export type RGB = readonly [number, number, number];

/** Depth beyond which a pixel counts as too far / invalid in every depth encoding. */
export const MAX_DEPTH_M = 500;

function labelIdOf(name: string): number {
  const cls = TRAIN_CLASSES.find((c) => c.name === name);
  if (!cls) throw new Error(`unknown class ${name}`);
  return cls.labelId;
}

const ID = {
  road: labelIdOf('road'),
  sidewalk: labelIdOf('sidewalk'),
  building: labelIdOf('building'),
  wall: labelIdOf('wall'),
  fence: labelIdOf('fence'),
  pole: labelIdOf('pole'),
  light: labelIdOf('traffic light'),
  sign: labelIdOf('traffic sign'),
  vegetation: labelIdOf('vegetation'),
  terrain: labelIdOf('terrain'),
  sky: labelIdOf('sky'),
  person: labelIdOf('person'),
  rider: labelIdOf('rider'),
  car: labelIdOf('car'),
  truck: labelIdOf('truck'),
  bus: labelIdOf('bus'),
  train: labelIdOf('train'),
  motorcycle: labelIdOf('motorcycle'),
  bicycle: labelIdOf('bicycle'),
} as const;

/** Per-domain appearance. Source: saturated, flat, clean. Target: muted, shifted hues, textured. */
export interface Style {
  name: 'source' | 'target';
  road: RGB;
  marking: RGB;
  sidewalk: RGB;
  curb: RGB;
  terrain: RGB;
  vegetation: readonly RGB[];
  trunk: RGB;
  buildings: readonly RGB[];
  windows: readonly RGB[];
  shopWindow: RGB;
  walls: readonly RGB[];
  fence: RGB;
  pole: RGB;
  housing: RGB;
  /** Lit lamp colours: red, amber, green. */
  lamps: readonly [RGB, RGB, RGB];
  lampOff: RGB;
  signRed: RGB;
  signBlue: RGB;
  signWhite: RGB;
  skyTop: RGB;
  skyHorizon: RGB;
  cars: readonly RGB[];
  trucks: readonly RGB[];
  buses: readonly RGB[];
  trains: readonly RGB[];
  tyre: RGB;
  rim: RGB;
  glass: RGB;
  tailLight: RGB;
  headLight: RGB;
  plate: RGB;
  skin: readonly RGB[];
  hair: RGB;
  shirts: readonly RGB[];
  trousers: readonly RGB[];
  bikes: readonly RGB[];
  haze: RGB;
  hazeDistance: number;
  /** Per-object colour variation (0..1). */
  jitter: number;
  /** Within-object texture strength (leaf blotches, window brightness). */
  texture: number;
  /** Face brightness: facades of buildings on the left / right of the street, faces towards the camera. */
  shade: { left: number; right: number; front: number };
}

export const SOURCE_STYLE: Style = {
  name: 'source',
  road: [78, 76, 104],
  marking: [246, 246, 238],
  sidewalk: [200, 174, 136],
  curb: [222, 212, 190],
  terrain: [156, 200, 70],
  vegetation: [
    [46, 168, 52],
    [74, 186, 40],
    [28, 148, 84],
  ],
  trunk: [120, 74, 36],
  buildings: [
    [214, 96, 72],
    [232, 198, 108],
    [96, 150, 216],
    [238, 236, 226],
    [186, 122, 204],
    [224, 150, 86],
  ],
  windows: [
    [40, 72, 124],
    [52, 96, 160],
  ],
  shopWindow: [30, 50, 90],
  walls: [
    [200, 152, 100],
    [176, 176, 196],
  ],
  fence: [156, 98, 44],
  pole: [44, 50, 62],
  housing: [36, 38, 30],
  lamps: [
    [255, 36, 36],
    [255, 196, 0],
    [30, 236, 96],
  ],
  lampOff: [70, 70, 60],
  signRed: [232, 28, 40],
  signBlue: [28, 84, 224],
  signWhite: [248, 248, 248],
  skyTop: [56, 138, 246],
  skyHorizon: [168, 214, 255],
  cars: [
    [222, 30, 30],
    [30, 82, 224],
    [250, 212, 40],
    [242, 242, 242],
    [28, 28, 34],
    [40, 172, 80],
    [250, 122, 20],
  ],
  trucks: [
    [240, 240, 236],
    [204, 60, 40],
    [60, 92, 176],
  ],
  buses: [
    [250, 202, 20],
    [222, 40, 40],
  ],
  trains: [[230, 230, 242]],
  tyre: [18, 18, 20],
  rim: [190, 190, 196],
  glass: [34, 46, 70],
  tailLight: [255, 40, 40],
  headLight: [255, 250, 210],
  plate: [250, 250, 250],
  skin: [
    [242, 200, 160],
    [204, 150, 110],
    [140, 94, 58],
  ],
  hair: [50, 30, 16],
  shirts: [
    [230, 52, 28],
    [40, 82, 224],
    [250, 200, 40],
    [40, 164, 80],
    [242, 242, 242],
    [164, 60, 204],
  ],
  trousers: [
    [36, 50, 100],
    [28, 28, 30],
    [124, 100, 68],
  ],
  bikes: [
    [224, 30, 30],
    [30, 30, 30],
    [30, 92, 224],
  ],
  haze: [176, 214, 250],
  hazeDistance: 1400,
  jitter: 0.12,
  texture: 0.03,
  shade: { left: 1.0, right: 0.84, front: 0.93 },
};

export const TARGET_STYLE: Style = {
  name: 'target',
  road: [134, 128, 118],
  marking: [196, 196, 190],
  sidewalk: [146, 146, 150],
  curb: [168, 166, 160],
  terrain: [122, 126, 84],
  vegetation: [
    [58, 86, 40],
    [78, 98, 52],
    [48, 72, 46],
  ],
  trunk: [72, 62, 52],
  buildings: [
    [170, 160, 142],
    [140, 130, 122],
    [192, 184, 170],
    [118, 110, 102],
    [152, 142, 122],
    [164, 136, 118],
  ],
  windows: [
    [64, 70, 78],
    [88, 92, 96],
  ],
  shopWindow: [52, 56, 60],
  walls: [
    [150, 146, 136],
    [128, 120, 110],
  ],
  fence: [96, 102, 96],
  pole: [112, 114, 110],
  housing: [34, 34, 36],
  lamps: [
    [200, 70, 60],
    [200, 160, 60],
    [80, 180, 120],
  ],
  lampOff: [60, 60, 58],
  signRed: [176, 58, 56],
  signBlue: [56, 88, 150],
  signWhite: [210, 212, 210],
  skyTop: [184, 198, 214],
  skyHorizon: [222, 226, 230],
  cars: [
    [92, 92, 96],
    [152, 152, 156],
    [40, 40, 44],
    [200, 200, 198],
    [112, 44, 42],
    [52, 62, 92],
  ],
  trucks: [
    [190, 190, 186],
    [120, 70, 56],
  ],
  buses: [
    [200, 190, 150],
    [150, 60, 56],
  ],
  trains: [[196, 196, 186]],
  tyre: [30, 30, 32],
  rim: [130, 130, 132],
  glass: [58, 64, 72],
  tailLight: [160, 50, 46],
  headLight: [212, 210, 196],
  plate: [206, 206, 200],
  skin: [
    [206, 172, 150],
    [170, 130, 104],
    [112, 84, 64],
  ],
  hair: [46, 38, 32],
  shirts: [
    [80, 80, 86],
    [140, 136, 128],
    [60, 66, 90],
    [120, 60, 56],
    [190, 186, 178],
    [40, 40, 42],
  ],
  trousers: [
    [44, 48, 60],
    [34, 34, 36],
    [100, 92, 80],
  ],
  bikes: [
    [60, 60, 64],
    [110, 40, 40],
    [40, 40, 42],
  ],
  haze: [206, 212, 218],
  hazeDistance: 360,
  jitter: 0.1,
  texture: 0.25,
  shade: { left: 0.96, right: 0.9, front: 0.93 },
};

/** Every base colour a style uses for each trainId (for checks against the Cityscapes palette). */
export function styleClassColours(style: Style): Map<number, RGB[]> {
  const byLabel: Array<[number, readonly RGB[]]> = [
    [ID.road, [style.road]],
    [ID.sidewalk, [style.sidewalk, style.curb]],
    [ID.building, style.buildings],
    [ID.wall, style.walls],
    [ID.fence, [style.fence]],
    [ID.pole, [style.pole]],
    [ID.light, [style.housing]],
    [ID.sign, [style.signRed, style.signBlue]],
    [ID.vegetation, [...style.vegetation, style.trunk]],
    [ID.terrain, [style.terrain]],
    [ID.sky, [style.skyTop, style.skyHorizon]],
    [ID.person, style.shirts],
    [ID.rider, style.shirts],
    [ID.car, style.cars],
    [ID.truck, style.trucks],
    [ID.bus, style.buses],
    [ID.train, style.trains],
    [ID.motorcycle, style.bikes],
    [ID.bicycle, style.bikes],
  ];
  const out = new Map<number, RGB[]>();
  for (const [labelId, colours] of byLabel) {
    const cls = TRAIN_CLASSES.find((c) => c.labelId === labelId)!;
    out.set(cls.trainId, [...colours]);
  }
  return out;
}

export interface RenderedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  /** Cityscapes labelIds, one byte per pixel. */
  labelIds: Uint8Array;
  /** Camera-frame depth (Z) in metres; Infinity where invalid (sky, ego vehicle, beyond MAX_DEPTH_M). */
  depth: Float32Array;
}

export interface RenderOptions {
  style: Style;
  /** Draw the ego-vehicle hood at the bottom (Cityscapes). */
  egoHood: boolean;
  /** Seed for image-level effects (noise, lighting). */
  seed: number;
}

/** Writes a colour into out and returns the label, or returns -1 where the panel is transparent. */
type Paint = (along: number, y: number, out: Float32Array) => number;

interface Panel {
  /** 0: plane X = pos, along-coordinate Z. 1: plane Z = pos, along-coordinate X. */
  orient: 0 | 1;
  pos: number;
  a0: number;
  a1: number;
  y0: number;
  y1: number;
  paint: Paint;
}

// ------------------------------------------------------------------------------------------------------------
// small helpers

function vary(base: RGB, rng: Rng, amount: number): RGB {
  const k = 1 + (rng.next() - 0.5) * amount * 2;
  return [
    base[0] * k + (rng.next() - 0.5) * amount * 60,
    base[1] * k + (rng.next() - 0.5) * amount * 60,
    base[2] * k + (rng.next() - 0.5) * amount * 60,
  ];
}

function scale(c: RGB, k: number): RGB {
  return [c[0] * k, c[1] * k, c[2] * k];
}

function put(out: Float32Array, c: RGB, k = 1): void {
  out[0] = c[0] * k;
  out[1] = c[1] * k;
  out[2] = c[2] * k;
}

function frac(x: number): number {
  return x - Math.floor(x);
}

/** Distance from (px, py) to the segment (ax, ay)-(bx, by). */
function segDist(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = px - ax - t * dx;
  const ey = py - ay - t * dy;
  return Math.sqrt(ex * ex + ey * ey);
}

// ------------------------------------------------------------------------------------------------------------
// panels per object kind

function buildingPanels(o: Extract<SceneObject, { kind: 'building' }>, style: Style, panels: Panel[]): void {
  const rng = new Rng(o.seed);
  const wall = vary(rng.pick(style.buildings), rng, style.jitter);
  const trim = scale(wall, 0.8);
  const win = vary(rng.pick(style.windows), rng, style.jitter * 0.5);
  const ground = rng.chance(0.5) ? scale(wall, 0.85) : vary(rng.pick(style.buildings), rng, style.jitter);
  const tex = style.texture;
  const seed = o.seed;
  const make =
    (origin: number, shade: number): Paint =>
    (along, y, out) => {
      const la = along - origin;
      if (y > o.height - 0.35) {
        put(out, trim, shade);
      } else if (o.shop && y < o.floorHeight) {
        const fx = frac(la / (o.windowSpacing * 1.6));
        if (fx > 0.12 && fx < 0.88 && y > 0.35 && y < o.floorHeight - 0.6) put(out, style.shopWindow, shade);
        else put(out, ground, shade);
      } else {
        const fl = Math.floor(y / o.floorHeight);
        const fy = y / o.floorHeight - fl;
        const col = Math.floor(la / o.windowSpacing);
        const fx = la / o.windowSpacing - col;
        if (fy > 0.3 && fy < 0.3 + o.windowHeight && Math.abs(fx - 0.5) < o.windowWidth / 2) {
          put(out, win, shade * (1 + (hash2(col, fl, seed) - 0.5) * tex * 2));
        } else {
          put(out, wall, shade);
        }
      }
      return ID.building;
    };
  if (o.x0 > 0) panels.push({ orient: 0, pos: o.x0, a0: o.z0, a1: o.z1, y0: 0, y1: o.height, paint: make(o.z0, style.shade.right) });
  if (o.x1 < 0) panels.push({ orient: 0, pos: o.x1, a0: o.z0, a1: o.z1, y0: 0, y1: o.height, paint: make(o.z0, style.shade.left) });
  if (o.z0 > 0) panels.push({ orient: 1, pos: o.z0, a0: o.x0, a1: o.x1, y0: 0, y1: o.height, paint: make(o.x0, style.shade.front) });
}

function vehiclePanels(o: Extract<SceneObject, { kind: 'vehicle' }>, style: Style, panels: Panel[]): void {
  const rng = new Rng(o.seed);
  const palette = { car: style.cars, truck: style.trucks, bus: style.buses, train: style.trains }[o.type];
  const label = { car: ID.car, truck: ID.truck, bus: ID.bus, train: ID.train }[o.type];
  const body = vary(rng.pick(palette), rng, style.jitter);
  const second = vary(rng.pick(palette), rng, style.jitter);
  const dark = scale(style.tyre, 1.5);
  const w = o.x1 - o.x0;
  const hw = w / 2;
  const len = o.z1 - o.z0;
  const h = o.height;
  const xc = (o.x0 + o.x1) / 2;
  const front = o.facing === 'toward';
  const lamp = front ? style.headLight : style.tailLight;

  // --- the face towards the camera (rear or front), plane Z = z0, local x from the centre ---
  let endPaint: Paint;
  if (o.type === 'car') {
    const bodyTop = h * 0.64;
    endPaint = (along, y, out) => {
      const ax = Math.abs(along - xc);
      if (y < 0.34) {
        if (ax > hw - 0.4 && ax < hw - 0.04) put(out, style.tyre);
        else if (y > 0.22) put(out, dark);
        else return -1;
      } else if (y < bodyTop) {
        if (y > bodyTop - 0.3 && y < bodyTop - 0.12 && ax > hw - 0.34) put(out, lamp);
        else if (y > 0.42 && y < 0.56 && ax < 0.26) put(out, style.plate);
        else if (front && y > 0.56 && y < bodyTop - 0.14 && ax < 0.42) put(out, dark);
        else if (y < 0.46) put(out, body, 0.75);
        else put(out, body);
      } else {
        const k = (y - bodyTop) / (h - bodyTop);
        const cw = hw * (0.9 - 0.22 * k);
        if (ax > cw) return -1;
        if (ax < cw - 0.09 && y < h - 0.06) put(out, style.glass);
        else put(out, body);
      }
      return label;
    };
  } else if (o.type === 'truck') {
    endPaint = (along, y, out) => {
      const lx = along - xc;
      const ax = Math.abs(lx);
      if (y < 0.55) {
        if (ax > hw - 0.55 && ax < hw - 0.05) put(out, style.tyre);
        else if (y > 0.3) put(out, dark);
        else return -1;
      } else if (front && y < h * 0.8) {
        if (y > h * 0.5 && y < h * 0.76 && ax < hw - 0.15) put(out, style.glass);
        else if (y > 0.7 && y < 0.9 && ax > hw - 0.4) put(out, lamp);
        else put(out, second);
      } else {
        if (Math.abs(lx) < 0.03 && y < h - 0.1) put(out, body, 0.7);
        else if (!front && y > 0.6 && y < 0.8 && ax > hw - 0.3) put(out, lamp);
        else put(out, body);
      }
      return label;
    };
  } else if (o.type === 'bus') {
    endPaint = (along, y, out) => {
      const ax = Math.abs(along - xc);
      if (y < 0.3) {
        if (ax > hw - 0.5 && ax < hw - 0.05) put(out, style.tyre);
        else return -1;
      } else if (y > h - 0.14) put(out, second);
      else if (front ? y > 1.0 && y < h - 0.3 && ax < hw - 0.12 : y > h * 0.55 && y < h - 0.3 && ax < hw - 0.3)
        put(out, style.glass);
      else if (y > 0.5 && y < 0.75 && ax > hw - 0.35) put(out, lamp);
      else put(out, body);
      return label;
    };
  } else {
    endPaint = (along, y, out) => {
      const ax = Math.abs(along - xc);
      if (y < 0.45) {
        if (ax > hw - 0.7 && ax < hw - 0.2 && y > 0.12) put(out, dark);
        else return -1;
      } else if (y > h - 0.4 && ax > hw - 0.4 && Math.hypot(ax - (hw - 0.4), y - (h - 0.4)) > 0.4) return -1;
      else if (y > 1.5 && y < h - 0.5 && ax < hw - 0.25) put(out, style.glass);
      else if (y > 0.9 && y < 1.1) put(out, second, 0.8);
      else if (y > 0.6 && y < 0.85 && ax > hw - 0.4) put(out, lamp);
      else put(out, body);
      return label;
    };
  }
  if (o.z0 > 0) panels.push({ orient: 1, pos: o.z0, a0: o.x0, a1: o.x1, y0: 0, y1: h, paint: endPaint });

  // --- the side towards the camera, plane X = x0 or x1; s = distance from the vehicle's front ---
  const sOf = (along: number): number => (front ? along - o.z0 : o.z1 - along);
  const wheel = (s: number, y: number, cs: number, r: number): number => Math.hypot(s - cs, y - r);
  let sidePaint: Paint;
  if (o.type === 'car') {
    const bodyTop = h * 0.64;
    const wf = 0.85;
    const wr = len - 0.9;
    sidePaint = (along, y, out) => {
      const s = sOf(along);
      const d = Math.min(wheel(s, y, wf, 0.33), wheel(s, y, wr, 0.33));
      if (d < 0.33) put(out, d < 0.17 ? style.rim : style.tyre);
      else if (y < 0.25) return -1;
      else if (y < bodyTop) {
        if ((s < 0.12 || s > len - 0.12) && y > bodyTop - 0.12) return -1;
        if (d < 0.4) put(out, dark);
        else if (y > bodyTop - 0.28 && y < bodyTop - 0.12 && s < 0.14) put(out, style.headLight);
        else if (y > bodyTop - 0.28 && y < bodyTop - 0.12 && s > len - 0.12) put(out, style.tailLight);
        else if (Math.abs(s - len * 0.52) < 0.02) put(out, body, 0.7);
        else put(out, body, y < 0.4 ? 0.8 : 1);
      } else {
        const k = (y - bodyTop) / (h - bodyTop);
        const sA = len * (0.27 + 0.12 * k);
        const sB = len * (0.9 - 0.08 * k);
        if (s < sA || s > sB) return -1;
        if (s > sA + 0.07 && s < sB - 0.07 && y < h - 0.06 && Math.abs(s - len * 0.56) > 0.05) put(out, style.glass);
        else put(out, body);
      }
      return label;
    };
  } else if (o.type === 'truck') {
    const cabH = Math.min(h - 0.3, 2.9);
    sidePaint = (along, y, out) => {
      const s = sOf(along);
      const d = Math.min(wheel(s, y, 1.2, 0.5), wheel(s, y, len - 1.4, 0.5), wheel(s, y, len - 2.5, 0.5));
      if (d < 0.5) put(out, d < 0.22 ? style.rim : style.tyre);
      else if (y < 0.55) return -1;
      else if (y < 0.9) put(out, dark);
      else if (s < 2.3) {
        if (y > cabH) return -1;
        if (s > 0.15 && s < 1.6 && y > cabH * 0.6 && y < cabH - 0.12) put(out, style.glass);
        else put(out, second);
      } else if (s < 2.5) return -1;
      else put(out, body, Math.abs(s - len / 2) < 0.03 ? 0.8 : 1);
      return label;
    };
  } else if (o.type === 'bus') {
    sidePaint = (along, y, out) => {
      const s = sOf(along);
      const d = Math.min(wheel(s, y, 2.4, 0.5), wheel(s, y, len - 3, 0.5));
      if (d < 0.5) put(out, d < 0.22 ? style.rim : style.tyre);
      else if (y < 0.3) return -1;
      else if (y > h - 0.14) put(out, second);
      else if (s > 0.4 && s < 1.4 && y < h - 0.35) put(out, style.glass, 0.8);
      else if (y > 1.05 && y < h - 0.35 && s > 1.6 && s < len - 0.25 && frac(s / 1.4) > 0.08) put(out, style.glass);
      else put(out, body);
      return label;
    };
  } else {
    sidePaint = (along, y, out) => {
      const s = sOf(along);
      if (y < 0.45) {
        if ((Math.abs(s - 3) < 1.2 || Math.abs(s - (len - 3)) < 1.2) && y > 0.1) put(out, dark);
        else return -1;
      } else if (y > h - 0.5 && (s < 0.5 || s > len - 0.5)) {
        const cs = s < 0.5 ? 0.5 : len - 0.5;
        if (Math.hypot(s - cs, y - (h - 0.5)) > 0.5) return -1;
        put(out, body);
      } else if (y > 1.5 && y < h - 0.5 && frac(s / 2.2) > 0.12 && s > 0.6 && s < len - 0.6) put(out, style.glass);
      else if (y > 0.9 && y < 1.1) put(out, second, 0.8);
      else put(out, body);
      return label;
    };
  }
  if (o.x0 > 0) panels.push({ orient: 0, pos: o.x0, a0: o.z0, a1: o.z1, y0: 0, y1: h, paint: sidePaint });
  if (o.x1 < 0) panels.push({ orient: 0, pos: o.x1, a0: o.z0, a1: o.z1, y0: 0, y1: h, paint: sidePaint });
}

function personPanel(o: Extract<SceneObject, { kind: 'person' }>, style: Style): Panel {
  const rng = new Rng(o.seed);
  const skin = rng.pick(style.skin);
  const shirt = vary(rng.pick(style.shirts), rng, style.jitter);
  const trousers = vary(rng.pick(style.trousers), rng, style.jitter);
  const h = o.height;
  const sc = h / 1.75;
  const headY = h - 0.12 * sc;
  const headR = 0.115 * sc;
  const hip = 0.5 * h;
  const shoulder = h - 0.25 * sc;
  const paint: Paint = (along, y, out) => {
    const lx = along - o.x;
    const ax = Math.abs(lx);
    const dh = Math.hypot(lx, y - headY);
    if (dh < headR) put(out, y > headY + 0.04 * sc ? style.hair : skin);
    else if (y > shoulder) {
      if (ax < 0.05 * sc && y < headY) put(out, skin);
      else return -1;
    } else if (y > hip) {
      const tw = (0.16 + (0.04 * (y - hip)) / (shoulder - hip)) * sc;
      if (ax < tw) put(out, shirt);
      else if (ax < tw + 0.075 * sc && y > 0.45 * h) put(out, y > 0.64 * h ? shirt : skin);
      else return -1;
    } else {
      const spread = (0.07 + o.stride * 0.1 * (1 - y / hip)) * sc;
      if (Math.abs(ax - spread) < 0.07 * sc || (y > 0.42 * h && ax < 0.16 * sc)) {
        put(out, y < 0.04 * h ? style.tyre : trousers);
      } else return -1;
    }
    return ID.person;
  };
  return { orient: 1, pos: o.z, a0: o.x - 0.5 * sc, a1: o.x + 0.5 * sc, y0: 0, y1: h, paint };
}

function cyclePanel(o: Extract<SceneObject, { kind: 'cycle' }>, style: Style): Panel {
  const rng = new Rng(o.seed);
  const frame = vary(rng.pick(style.bikes), rng, style.jitter);
  const shirt = vary(rng.pick(style.shirts), rng, style.jitter);
  const trousers = vary(rng.pick(style.trousers), rng, style.jitter);
  const skin = rng.pick(style.skin);
  const len = o.length;
  const R = o.motor ? 0.32 : 0.34;
  const rear = 0.35;
  const fore = len - 0.35;
  const bar: [number, number] = [len - 0.45, o.motor ? 1.0 : 1.05];
  const hip: [number, number] = [0.7, 0.95];
  const shoulder: [number, number] = [0.95, 1.5];
  const bikeLabel = o.motor ? ID.motorcycle : ID.bicycle;
  const paint: Paint = (along, y, out) => {
    const s = o.away ? along - o.z : o.z + len - along;
    if (o.rider) {
      if (Math.hypot(s - 1.02, y - 1.66) < 0.11) {
        put(out, o.motor ? frame : skin);
        return ID.rider;
      }
      if (
        segDist(s, y, hip[0], hip[1], shoulder[0], shoulder[1]) < 0.15 ||
        segDist(s, y, shoulder[0], shoulder[1], bar[0], bar[1]) < 0.05
      ) {
        put(out, shirt);
        return ID.rider;
      }
      if (segDist(s, y, hip[0], hip[1], 0.98, 0.62) < 0.07 || segDist(s, y, 0.98, 0.62, 0.82, 0.3) < 0.06) {
        put(out, trousers);
        return ID.rider;
      }
    }
    const dr = Math.hypot(s - rear, y - R);
    const df = Math.hypot(s - fore, y - R);
    if (o.motor) {
      if (dr < R || df < R) put(out, Math.min(dr, df) < R * 0.45 ? style.rim : style.tyre);
      else if (((s - len / 2) / (len * 0.32)) ** 2 + ((y - 0.62) / 0.24) ** 2 < 1) put(out, frame);
      else if (segDist(s, y, fore, R, bar[0], bar[1]) < 0.04) put(out, style.rim);
      else return -1;
      return bikeLabel;
    }
    if (Math.abs(dr - R) < 0.04 || Math.abs(df - R) < 0.04) put(out, style.tyre);
    else if (
      segDist(s, y, rear, R, 0.65, 0.88) < 0.03 ||
      segDist(s, y, rear, R, 0.8, 0.34) < 0.03 ||
      segDist(s, y, 0.8, 0.34, 0.65, 0.88) < 0.035 ||
      segDist(s, y, 0.8, 0.34, len - 0.5, 0.92) < 0.035 ||
      segDist(s, y, 0.65, 0.88, len - 0.5, 0.92) < 0.03 ||
      segDist(s, y, len - 0.5, 0.92, fore, R) < 0.03 ||
      segDist(s, y, len - 0.5, 0.92, bar[0], bar[1]) < 0.03
    )
      put(out, frame);
    else return -1;
    return bikeLabel;
  };
  return { orient: 0, pos: o.x, a0: o.z, a1: o.z + len, y0: 0, y1: o.rider ? 1.8 : 1.1, paint };
}

function streetlightPanel(o: Extract<SceneObject, { kind: 'streetlight' }>, style: Style): Panel {
  const rng = new Rng(o.seed);
  const pole = vary(style.pole, rng, style.jitter * 0.5);
  const head = o.x + o.armDir * o.armLength;
  const h = o.height;
  const paint: Paint = (along, y, out) => {
    const lx = along - o.x;
    const armPos = lx * o.armDir;
    if (Math.abs(lx) < 0.09) put(out, pole);
    else if (y > h - 0.12 && armPos >= 0 && armPos <= o.armLength) put(out, pole);
    else if (y > h - 0.3 && y < h - 0.04 && Math.abs(along - head) < 0.3) put(out, pole, y < h - 0.24 ? 1.5 : 0.85);
    else return -1;
    return ID.pole;
  };
  return {
    orient: 1,
    pos: o.z,
    a0: Math.min(o.x - 0.1, head - 0.31),
    a1: Math.max(o.x + 0.1, head + 0.31),
    y0: 0,
    y1: h,
    paint,
  };
}

function signPanel(o: Extract<SceneObject, { kind: 'sign' }>, style: Style): Panel {
  const rng = new Rng(o.seed);
  const pole = vary(style.pole, rng, style.jitter * 0.5);
  const back = rng.chance(0.2);
  const variant = rng.next();
  const r = o.size / 2;
  const cy = o.height + (o.shape === 'rect' ? r * 0.7 : r);
  const hwPlate = o.shape === 'rect' ? r * 1.5 : r;
  const paint: Paint = (along, y, out) => {
    const lx = along - o.x;
    const dy = y - cy;
    let inside = false;
    let border = false;
    let symbol = false;
    if (o.shape === 'circle') {
      const d = Math.hypot(lx, dy);
      inside = d < r;
      border = d > r * 0.78;
    } else if (o.shape === 'triangle') {
      // point up, side 2r: inside if below the two slanted edges and above the base
      const top = r * 0.9;
      const base = -r * 0.85;
      const halfAt = ((top - dy) / (top - base)) * r;
      inside = dy < top && dy > base && Math.abs(lx) < halfAt;
      border = inside && (dy < base + r * 0.2 || Math.abs(lx) > halfAt - r * 0.26);
    } else {
      const hh = o.shape === 'rect' ? r * 0.7 : r;
      inside = Math.abs(lx) < hwPlate && Math.abs(dy) < hh;
      border = inside && (Math.abs(lx) > hwPlate - 0.06 || Math.abs(dy) > hh - 0.06);
      symbol = Math.abs(lx) < hwPlate * 0.35 && Math.abs(dy) < hh * 0.35;
    }
    if (inside) {
      if (back) put(out, pole, 1.3);
      else if (o.shape === 'circle') put(out, variant < 0.5 ? (border ? style.signRed : style.signWhite) : style.signBlue);
      else if (o.shape === 'triangle') put(out, border ? style.signRed : style.signWhite);
      else put(out, border || symbol ? style.signWhite : style.signBlue);
      return ID.sign;
    }
    if (Math.abs(lx) < 0.035 && y < cy) {
      put(out, pole);
      return ID.pole;
    }
    return -1;
  };
  return { orient: 1, pos: o.z, a0: o.x - hwPlate - 0.01, a1: o.x + hwPlate + 0.01, y0: 0, y1: cy + r + 0.01, paint };
}

function trafficLightPanel(o: Extract<SceneObject, { kind: 'trafficLight' }>, style: Style): Panel {
  const rng = new Rng(o.seed);
  const pole = vary(style.pole, rng, style.jitter * 0.5);
  const h = o.height;
  const hx = o.armLength > 0 ? o.x + o.armDir * o.armLength * 0.9 : o.x;
  const top = o.armLength > 0 ? h - 0.15 : h;
  const bottom = top - 0.95;
  const paint: Paint = (along, y, out) => {
    const lx = along - o.x;
    const hxl = along - hx;
    if (Math.abs(hxl) < 0.17 && y > bottom && y < top) {
      const slot = Math.min(2, Math.floor(((top - y) / (top - bottom)) * 3));
      const cy = top - (slot + 0.5) * ((top - bottom) / 3);
      if (Math.hypot(hxl, y - cy) < 0.11) put(out, slot === o.state ? style.lamps[slot]! : style.lampOff);
      else put(out, style.housing);
      return ID.light;
    }
    if (Math.abs(lx) < 0.07 && y < h) {
      put(out, pole);
      return ID.pole;
    }
    const armPos = lx * o.armDir;
    if (o.armLength > 0 && y > h - 0.15 && y < h && armPos >= 0 && armPos <= o.armLength) {
      put(out, pole);
      return ID.pole;
    }
    return -1;
  };
  const x0 = Math.min(o.x - 0.08, hx - 0.18, o.x + o.armDir * o.armLength);
  const x1 = Math.max(o.x + 0.08, hx + 0.18, o.x + o.armDir * o.armLength);
  return { orient: 1, pos: o.z, a0: x0, a1: x1, y0: 0, y1: h, paint };
}

function treePanel(o: Extract<SceneObject, { kind: 'tree' }>, style: Style): Panel {
  const rng = new Rng(o.seed);
  const leaf = vary(rng.pick(style.vegetation), rng, style.jitter);
  const trunk = vary(style.trunk, rng, style.jitter);
  const R = o.crownRadius;
  const ax = rng.uniform(0.8, 1.25);
  const cy = o.trunkHeight + R * 0.75;
  const harmonics = [3, 5, 9].map((k) => ({ k, a: rng.uniform(0.03, 0.09), p: rng.uniform(0, 6.283) }));
  const cell = 0.35;
  const tex = style.texture;
  const seed = o.seed;
  const paint: Paint = (along, y, out) => {
    const lx = along - o.x;
    const dx = lx / (R * ax);
    const dy = (y - cy) / R;
    const rr = Math.sqrt(dx * dx + dy * dy);
    if (rr < 1.3) {
      const th = Math.atan2(dy, dx);
      let rho = 1;
      for (const hm of harmonics) rho += hm.a * Math.sin(hm.k * th + hm.p);
      if (rr < rho) {
        const blotch = (hash2(Math.floor(lx / cell), Math.floor(y / cell), seed) - 0.5) * tex * 2;
        put(out, leaf, 1 + blotch + 0.1 * dy);
        return ID.vegetation;
      }
    }
    if (Math.abs(lx) < o.trunkWidth / 2 && y < cy) {
      put(out, trunk);
      return ID.vegetation;
    }
    return -1;
  };
  return { orient: 1, pos: o.z, a0: o.x - R * ax * 1.3, a1: o.x + R * ax * 1.3, y0: 0, y1: cy + R * 1.3, paint };
}

function treelinePanel(o: Extract<SceneObject, { kind: 'treeline' }>, style: Style): Panel {
  const rng = new Rng(o.seed);
  const leaf = vary(rng.pick(style.vegetation), rng, style.jitter);
  const p1 = rng.uniform(0, 6.283);
  const p2 = rng.uniform(0, 6.283);
  const p3 = rng.uniform(0, 6.283);
  const tex = style.texture;
  const seed = o.seed;
  const paint: Paint = (along, y, out) => {
    const top =
      o.height + o.amp * (0.5 * Math.sin(along * 0.09 + p1) + 0.3 * Math.sin(along * 0.31 + p2) + 0.2 * Math.sin(along * 1.1 + p3));
    if (y >= top) return -1;
    put(out, leaf, 1 + (hash2(Math.floor(along), Math.floor(y), seed) - 0.5) * tex * 2);
    return ID.vegetation;
  };
  return { orient: o.orient === 'x' ? 0 : 1, pos: o.pos, a0: o.a0, a1: o.a1, y0: 0, y1: o.height + o.amp * 1.05, paint };
}

function barrierPanel(o: Extract<SceneObject, { kind: 'barrier' }>, style: Style): Panel {
  const rng = new Rng(o.seed);
  const h = o.height;
  let paint: Paint;
  if (o.type === 'wall') {
    const c = vary(rng.pick(style.walls), rng, style.jitter);
    paint = (_along, y, out) => {
      put(out, c, y > h - 0.12 ? 1.15 : 1);
      return ID.wall;
    };
  } else if (o.type === 'fence') {
    const c = vary(style.fence, rng, style.jitter);
    paint = (along, y, out) => {
      const post = frac((along - o.z0) / 2.5) < 0.06;
      const rail = y > h - 0.1 || (y > 0.15 && y < 0.25);
      if (!post && !rail && frac(along / 0.18) >= 0.45) return -1;
      put(out, c, post ? 0.85 : 1);
      return ID.fence;
    };
  } else {
    const leaf = vary(rng.pick(style.vegetation), rng, style.jitter);
    const seed = o.seed;
    const tex = style.texture;
    paint = (along, y, out) => {
      if (y > h - 0.12 + 0.1 * Math.sin(along * 1.7) + 0.05 * Math.sin(along * 5.3)) return -1;
      put(out, leaf, 0.9 + (hash2(Math.floor(along / 0.3), Math.floor(y / 0.3), seed) - 0.5) * tex * 2);
      return ID.vegetation;
    };
  }
  return { orient: 0, pos: o.x, a0: o.z0, a1: o.z1, y0: 0, y1: h + 0.05, paint };
}

function panelsFor(scene: Scene, style: Style): Panel[] {
  const panels: Panel[] = [];
  for (const o of scene.objects) {
    switch (o.kind) {
      case 'building':
        buildingPanels(o, style, panels);
        break;
      case 'vehicle':
        vehiclePanels(o, style, panels);
        break;
      case 'person':
        panels.push(personPanel(o, style));
        break;
      case 'cycle':
        panels.push(cyclePanel(o, style));
        break;
      case 'streetlight':
        panels.push(streetlightPanel(o, style));
        break;
      case 'sign':
        panels.push(signPanel(o, style));
        break;
      case 'trafficLight':
        panels.push(trafficLightPanel(o, style));
        break;
      case 'tree':
        panels.push(treePanel(o, style));
        break;
      case 'treeline':
        panels.push(treelinePanel(o, style));
        break;
      case 'barrier':
        panels.push(barrierPanel(o, style));
        break;
    }
  }
  return panels;
}

// ------------------------------------------------------------------------------------------------------------
// the renderer

/** Top row (fractional) of the ego-vehicle hood in column u: a fixed curved shape, ~10% of rows at the centre. */
export function egoHoodTop(u: number, width: number, height: number): number {
  const xn = (u + 0.5 - width / 2) / (width / 2);
  return height * (1 - 0.1 * (1 - 0.45 * xn * xn));
}

export function renderScene(scene: Scene, options: RenderOptions): RenderedImage {
  const { style } = options;
  const cam = scene.camera;
  const W = cam.width;
  const H = cam.height;
  const N = W * H;
  const col = new Float32Array(N * 3);
  const label = new Uint8Array(N);
  const zbuf = new Float32Array(N).fill(Infinity);
  const cy = Math.cos(cam.yaw);
  const sy = Math.sin(cam.yaw);
  const DX = new Float64Array(W);
  const DZ = new Float64Array(W);
  for (let u = 0; u < W; u++) {
    const a = (u + 0.5 - cam.u0) / cam.f;
    DX[u] = a * cy + sy;
    DZ[u] = -a * sy + cy;
  }
  const B = new Float64Array(H);
  for (let v = 0; v < H; v++) B[v] = (v + 0.5 - cam.v0) / cam.f;

  // --- ground and sky, per pixel ---
  const zrng = new Rng(hashSeed(scene.seed, 1));
  const zoneStyle = scene.zones.map((zone) => {
    const base = zone.kind === 'road' ? style.road : zone.kind === 'curb' ? style.curb : zone.kind === 'sidewalk' ? style.sidewalk : style.terrain;
    const id = zone.kind === 'road' ? ID.road : zone.kind === 'terrain' ? ID.terrain : ID.sidewalk;
    return { zone, id, colour: vary(base, zrng, style.jitter * 0.5) };
  });
  const marking = style.marking;
  for (let v = 0; v < H; v++) {
    const b = B[v]!;
    const row = v * W;
    if (b <= 0) {
      const k = Math.min(1, Math.max(0, (v + 0.5) / Math.max(1, cam.v0)));
      const kk = k * k;
      for (let u = 0; u < W; u++) {
        const i = row + u;
        label[i] = ID.sky;
        col[i * 3] = style.skyTop[0] + (style.skyHorizon[0] - style.skyTop[0]) * kk;
        col[i * 3 + 1] = style.skyTop[1] + (style.skyHorizon[1] - style.skyTop[1]) * kk;
        col[i * 3 + 2] = style.skyTop[2] + (style.skyHorizon[2] - style.skyTop[2]) * kk;
      }
      continue;
    }
    const t = cam.camHeight / b;
    let zi = 0;
    for (let u = 0; u < W; u++) {
      const i = row + u;
      const X = t * DX[u]!;
      const Z = t * DZ[u]!;
      while (zi < zoneStyle.length - 1 && X >= zoneStyle[zi]!.zone.x1) zi++;
      const zs = zoneStyle[zi]!;
      let c: RGB = zs.colour;
      if (zs.zone.kind === 'road') {
        for (const line of scene.lines) {
          if (Math.abs(X - line.x) < line.width / 2 && (!line.dashed || frac((Z + line.phase) / 9) < 0.34)) c = marking;
        }
        for (const cw of scene.crosswalks) {
          if (Z >= cw.z0 && Z < cw.z1 && X > cw.x0 + 0.3 && X < cw.x1 - 0.3 && frac(X - cw.x0) < 0.5) c = marking;
        }
      }
      label[i] = zs.id;
      zbuf[i] = t;
      col[i * 3] = c[0];
      col[i * 3 + 1] = c[1];
      col[i * 3 + 2] = c[2];
    }
  }

  // --- vertical panels, column by column, z-tested ---
  const panels = panelsFor(scene, style);
  const px = new Float32Array(3);
  const f = cam.f;
  const ch = cam.camHeight;
  for (let u = 0; u < W; u++) {
    const dx = DX[u]!;
    const dz = DZ[u]!;
    for (const p of panels) {
      const d = p.orient === 0 ? dx : dz;
      if (Math.abs(d) < 1e-12) continue;
      const t = p.pos / d;
      if (!(t > 0.1)) continue;
      const along = t * (p.orient === 0 ? dz : dx);
      if (along < p.a0 || along >= p.a1) continue;
      const vTop = Math.max(0, Math.floor(cam.v0 + (f * (ch - p.y1)) / t - 0.5));
      const vBot = Math.min(H - 1, Math.ceil(cam.v0 + (f * (ch - p.y0)) / t - 0.5));
      for (let v = vTop; v <= vBot; v++) {
        const i = v * W + u;
        if (t >= zbuf[i]!) continue;
        const y = ch - t * B[v]!;
        if (y < p.y0 || y >= p.y1) continue;
        const id = p.paint(along, y, px);
        if (id < 0) continue;
        label[i] = id;
        zbuf[i] = t;
        col[i * 3] = px[0]!;
        col[i * 3 + 1] = px[1]!;
        col[i * 3 + 2] = px[2]!;
      }
    }
  }

  // --- aerial perspective ---
  const haze = style.haze;
  for (let i = 0; i < N; i++) {
    const t = zbuf[i]!;
    if (t === Infinity) continue;
    const k = 1 - Math.exp(-t / style.hazeDistance);
    col[i * 3] = col[i * 3]! * (1 - k) + haze[0] * k;
    col[i * 3 + 1] = col[i * 3 + 1]! * (1 - k) + haze[1] * k;
    col[i * 3 + 2] = col[i * 3 + 2]! * (1 - k) + haze[2] * k;
  }

  // --- ego-vehicle hood (Cityscapes): label 1, no depth ---
  if (options.egoHood) {
    for (let u = 0; u < W; u++) {
      const top = egoHoodTop(u, W, H);
      const xn = (u + 0.5 - W / 2) / (W / 2);
      for (let v = Math.max(0, Math.floor(top)); v < H; v++) {
        if (v + 0.5 < top) continue;
        const i = v * W + u;
        const k = (v + 0.5 - top) / Math.max(1, H - top);
        const glare = Math.max(0, 1 - k * 3) * 0.55 + Math.max(0, 0.25 - xn * xn) * 0.4;
        label[i] = VOID_LABEL_IDS.egoVehicle;
        zbuf[i] = Infinity;
        col[i * 3] = 34 + (150 - 34) * glare;
        col[i * 3 + 1] = 36 + (156 - 36) * glare;
        col[i * 3 + 2] = 42 + (166 - 42) * glare;
      }
    }
  }

  if (style.name === 'target') finishTarget(col, label, W, H, options.seed);

  const rgb = new Uint8Array(N * 3);
  for (let j = 0; j < N * 3; j++) {
    const x = Math.round(col[j]!);
    rgb[j] = x < 0 ? 0 : x > 255 ? 255 : x;
  }
  const depth = zbuf;
  for (let i = 0; i < N; i++) {
    if (label[i] === ID.sky || !(depth[i]! <= MAX_DEPTH_M)) depth[i] = Infinity;
  }
  return { width: W, height: H, rgb, labelIds: label, depth };
}

/** Target-domain camera look: lighting gradient and vignette, colour cast, sensor noise, mild blur. */
function finishTarget(col: Float32Array, label: Uint8Array, W: number, H: number, seed: number): void {
  const rng = new Rng(hashSeed(seed, 0x7a6e));
  const bright = rng.uniform(0.8, 1.05);
  const angle = rng.uniform(0, Math.PI * 2);
  const gx = Math.cos(angle) * rng.uniform(0.1, 0.25);
  const gy = Math.sin(angle) * rng.uniform(0.1, 0.25);
  const cast = [rng.uniform(0.95, 1.06), 1, rng.uniform(0.92, 1.04)];
  const cell = Math.max(6, Math.round(W / 24));
  const nseed = rng.seed();
  const fseed = rng.seed();
  // low-frequency blotches: value noise sampled once per pixel column/row of cells, then interpolated
  const gw = Math.ceil(W / cell) + 2;
  const gh = Math.ceil(H / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let j = 0; j < gh; j++) for (let k = 0; k < gw; k++) grid[j * gw + k] = hash2(k, j, nseed);
  for (let v = 0; v < H; v++) {
    const yn = ((v + 0.5) / H) * 2 - 1;
    const gy0 = Math.floor(v / cell);
    let fy = v / cell - gy0;
    fy = fy * fy * (3 - 2 * fy);
    for (let u = 0; u < W; u++) {
      const xn = ((u + 0.5) / W) * 2 - 1;
      const i = v * W + u;
      const light = bright * (1 + gx * xn + gy * yn) * (1 - 0.28 * (0.6 * xn * xn + 0.4 * yn * yn));
      const gx0 = Math.floor(u / cell);
      let fx = u / cell - gx0;
      fx = fx * fx * (3 - 2 * fx);
      const g = gy0 * gw + gx0;
      const a = grid[g]!;
      const b = grid[g + 1]!;
      const c = grid[g + gw]!;
      const d = grid[g + gw + 1]!;
      const noise = a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
      const low = 1 + (noise - 0.5) * (label[i] === ID.sky ? 0.2 : 0.14);
      // one hash per pixel: luminance grain from its high bits, a little chroma grain from the low bits
      const h = hash2(u, v, fseed) * 4294967296;
      const fine = (h / 4294967296 - 0.5) * 16;
      const k = light * low;
      col[i * 3] = col[i * 3]! * k * cast[0]! + fine + ((h & 255) / 255 - 0.5) * 5;
      col[i * 3 + 1] = col[i * 3 + 1]! * k * cast[1]! + fine + (((h >>> 8) & 255) / 255 - 0.5) * 5;
      col[i * 3 + 2] = col[i * 3 + 2]! * k * cast[2]! + fine + (((h >>> 16) & 255) / 255 - 0.5) * 5;
    }
  }
  // separable [1 2 1] / 4 blur, edges clamped
  const tmp = new Float32Array(col.length);
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      const l = v * W + Math.max(0, u - 1);
      const m = v * W + u;
      const r = v * W + Math.min(W - 1, u + 1);
      for (let c = 0; c < 3; c++) tmp[m * 3 + c] = (col[l * 3 + c]! + 2 * col[m * 3 + c]! + col[r * 3 + c]!) * 0.25;
    }
  }
  for (let v = 0; v < H; v++) {
    const up = Math.max(0, v - 1) * W;
    const down = Math.min(H - 1, v + 1) * W;
    for (let u = 0; u < W; u++) {
      const m = v * W + u;
      for (let c = 0; c < 3; c++) {
        col[m * 3 + c] = (tmp[(up + u) * 3 + c]! + 2 * tmp[m * 3 + c]! + tmp[(down + u) * 3 + c]!) * 0.25;
      }
    }
  }
}
