// Procedural street-scene geometry for the demo data, shared by every domain (GTA5, SYNTHIA, Cityscapes look
// different, but their layouts come from this one generator). Everything is in metres in a world frame with the
// camera at X = 0, Z = 0 (X right, Z forward along the street, Y up from the flat ground plane).
// The camera looks along +Z, turned by a small yaw; it has no pitch or roll, so the horizon is the row v0.

import { Rng } from '../../random';

/** Cityscapes' focal length in pixels at 2048 px width (camera json "fx"). */
export const CITYSCAPES_FX_2048 = 2262.52;

export interface Camera {
  width: number;
  height: number;
  /** Focal length in pixels (fx = fy). */
  f: number;
  /** Principal point; v0 is also the horizon row. */
  u0: number;
  v0: number;
  /** Camera height above the ground in metres. */
  camHeight: number;
  /** Rotation about the vertical axis in radians (positive turns the view to the right). */
  yaw: number;
}

export type ZoneKind = 'road' | 'curb' | 'sidewalk' | 'terrain';

/** A band of the ground plane between two X values, running along the whole street. */
export interface GroundZone {
  x0: number;
  x1: number;
  kind: ZoneKind;
}

export interface LaneLine {
  x: number;
  width: number;
  dashed: boolean;
  phase: number;
}

export interface Crosswalk {
  z0: number;
  z1: number;
  x0: number;
  x1: number;
}

export type VehicleType = 'car' | 'truck' | 'bus' | 'train';

export type SceneObject =
  | {
      kind: 'building';
      x0: number;
      x1: number;
      z0: number;
      z1: number;
      height: number;
      floorHeight: number;
      windowSpacing: number;
      windowWidth: number;
      windowHeight: number;
      shop: boolean;
      seed: number;
    }
  | { kind: 'barrier'; type: 'wall' | 'fence' | 'hedge'; x: number; z0: number; z1: number; height: number; seed: number }
  | { kind: 'treeline'; orient: 'x' | 'z'; pos: number; a0: number; a1: number; height: number; amp: number; seed: number }
  | { kind: 'tree'; x: number; z: number; trunkHeight: number; trunkWidth: number; crownRadius: number; seed: number }
  | { kind: 'streetlight'; x: number; z: number; height: number; armDir: number; armLength: number; seed: number }
  | {
      kind: 'sign';
      x: number;
      z: number;
      height: number;
      shape: 'circle' | 'triangle' | 'square' | 'rect';
      size: number;
      seed: number;
    }
  | {
      kind: 'trafficLight';
      x: number;
      z: number;
      height: number;
      /** Length of an overhead arm towards the road (0: the housing sits on the post). */
      armLength: number;
      armDir: number;
      state: number;
      seed: number;
    }
  | { kind: 'person'; x: number; z: number; height: number; stride: number; seed: number }
  | {
      kind: 'cycle';
      x: number;
      z: number;
      length: number;
      motor: boolean;
      rider: boolean;
      /** true: the front wheel is the far one (riding away from the camera). */
      away: boolean;
      seed: number;
    }
  | {
      kind: 'vehicle';
      type: VehicleType;
      x0: number;
      x1: number;
      z0: number;
      z1: number;
      height: number;
      /** 'away': the camera sees the rear; 'toward': the front. */
      facing: 'away' | 'toward';
      seed: number;
    };

export interface Scene {
  camera: Camera;
  zones: GroundZone[];
  lines: LaneLine[];
  crosswalks: Crosswalk[];
  objects: SceneObject[];
  /** Seed for appearance details that are not tied to one object (zone colours, sky, noise). */
  seed: number;
}

interface Footprint {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
}

/** Nearest distance (camera depth, metres) at which objects are placed. */
const MIN_OBJECT_Z = 5;

export function makeCamera(rng: Rng, width: number, height: number): Camera {
  return {
    width,
    height,
    f: (CITYSCAPES_FX_2048 * width) / 2048,
    u0: width / 2,
    v0: height * rng.uniform(0.4, 0.47),
    camHeight: rng.uniform(1.15, 1.6),
    yaw: rng.uniform(-0.05, 0.05),
  };
}

interface SideLayout {
  sign: number;
  /** X of the road edge (curb line) on this side. */
  edge: number;
  /** X range of the walkable sidewalk (excluding the curb), inner (road side) first. */
  walkInner: number;
  walkOuter: number;
  strip: [number, number] | null;
  yard: [number, number] | null;
  /** X of the building line. */
  buildingLine: number;
}

function layoutSide(rng: Rng, sign: number, edge: number, zones: GroundZone[]): SideLayout {
  let d = 0;
  const band = (width: number, kind: ZoneKind): [number, number] => {
    const a = edge + sign * d;
    const b = edge + sign * (d + width);
    zones.push({ x0: Math.min(a, b), x1: Math.max(a, b), kind });
    d += width;
    return [a, b];
  };
  band(0.25, 'curb');
  const strip = rng.chance(0.3) ? band(rng.uniform(1, 2.5), 'terrain') : null;
  const walk = band(rng.uniform(2, 5), 'sidewalk');
  const yard = rng.chance(0.35) ? band(rng.uniform(1.2, 4), 'terrain') : null;
  return { sign, edge, walkInner: walk[0], walkOuter: walk[1], strip, yard, buildingLine: edge + sign * d };
}

export function generateScene(rng: Rng, width: number, height: number): Scene {
  const camera = makeCamera(rng, width, height);
  const objects: SceneObject[] = [];
  const footprints: Footprint[] = [];
  const place = (fp: Footprint, margin = 0.3): boolean => {
    for (const o of footprints) {
      if (fp.x0 < o.x1 + margin && fp.x1 > o.x0 - margin && fp.z0 < o.z1 + margin && fp.z1 > o.z0 - margin) return false;
    }
    footprints.push(fp);
    return true;
  };

  // --- road and lanes -------------------------------------------------------------------------------------
  const nLanes = rng.pick([2, 2, 3, 4]);
  const laneWidth = rng.uniform(3.0, 3.6);
  const oncoming = rng.chance(0.25) ? 0 : Math.floor(nLanes / 2);
  const egoLane = rng.int(oncoming, nLanes - 1);
  const lanesLeft = -(egoLane + 0.5) * laneWidth - rng.uniform(-0.4, 0.4);
  const lanesRight = lanesLeft + nLanes * laneWidth;
  const parkLeft = rng.chance(0.45) ? 2.2 : 0;
  const parkRight = rng.chance(0.55) ? 2.2 : 0;
  const roadLeft = lanesLeft - parkLeft;
  const roadRight = lanesRight + parkRight;
  const laneCentre = (i: number): number => lanesLeft + (i + 0.5) * laneWidth;

  const zones: GroundZone[] = [{ x0: roadLeft, x1: roadRight, kind: 'road' }];
  const left = layoutSide(rng, -1, roadLeft, zones);
  const right = layoutSide(rng, 1, roadRight, zones);
  zones.push({ x0: -1e9, x1: left.buildingLine, kind: 'terrain' });
  zones.push({ x0: right.buildingLine, x1: 1e9, kind: 'terrain' });
  zones.sort((a, b) => a.x0 - b.x0);

  const lines: LaneLine[] = [];
  for (let i = 1; i < nLanes; i++) {
    const separator = oncoming > 0 && i === oncoming;
    lines.push({ x: lanesLeft + i * laneWidth, width: separator ? 0.2 : 0.14, dashed: !separator, phase: rng.uniform(0, 9) });
  }
  if (rng.chance(0.6)) {
    lines.push({ x: parkLeft > 0 ? lanesLeft : roadLeft + 0.3, width: 0.14, dashed: false, phase: 0 });
    lines.push({ x: parkRight > 0 ? lanesRight : roadRight - 0.3, width: 0.14, dashed: false, phase: 0 });
  }
  const crosswalks: Crosswalk[] = [];
  if (rng.chance(0.35)) {
    const z0 = rng.uniform(10, 35);
    crosswalks.push({ z0, z1: z0 + rng.uniform(3, 4), x0: roadLeft, x1: roadRight });
  }

  // --- buildings, end of the street, background -----------------------------------------------------------
  const endRow = rng.chance(0.5);
  const zEnd = endRow ? rng.uniform(110, 240) : rng.uniform(100, 250);
  const gaps: Array<{ side: SideLayout; z0: number; z1: number }> = [];
  for (const side of [left, right]) {
    let z = rng.uniform(-12, -2);
    while (z < zEnd - 4) {
      if (rng.chance(0.22)) {
        const gap = Math.min(rng.uniform(3, 14), zEnd - z);
        gaps.push({ side, z0: z, z1: z + gap });
        z += gap;
        continue;
      }
      const length = Math.min(rng.uniform(8, 30), zEnd - z);
      const height = rng.chance(0.4) ? rng.uniform(12, 28) : rng.uniform(5, 12);
      const facade = side.buildingLine + side.sign * (rng.chance(0.5) ? 0 : rng.uniform(0.3, 2));
      const depth = rng.uniform(12, 20);
      const x0 = side.sign > 0 ? facade : facade - depth;
      objects.push({
        kind: 'building',
        x0,
        x1: x0 + depth,
        z0: z,
        z1: z + length,
        height,
        floorHeight: rng.uniform(2.8, 3.6),
        windowSpacing: rng.uniform(2.2, 4),
        windowWidth: rng.uniform(0.35, 0.6),
        windowHeight: rng.uniform(0.4, 0.6),
        shop: rng.chance(0.5),
        seed: rng.seed(),
      });
      z += length;
    }
    if (rng.chance(0.55)) {
      objects.push({
        kind: 'treeline',
        orient: 'x',
        pos: side.buildingLine + side.sign * rng.uniform(15, 35),
        a0: -20,
        a1: zEnd + 60,
        height: rng.uniform(5, 12),
        amp: rng.uniform(1.5, 4),
        seed: rng.seed(),
      });
    }
  }
  if (endRow) {
    let x = -rng.uniform(60, 80);
    while (x < 80) {
      const w = rng.uniform(8, 22);
      objects.push({
        kind: 'building',
        x0: x,
        x1: x + w,
        z0: zEnd,
        z1: zEnd + 20,
        height: rng.uniform(5, 14),
        floorHeight: rng.uniform(2.8, 3.6),
        windowSpacing: rng.uniform(2.2, 4),
        windowWidth: rng.uniform(0.35, 0.6),
        windowHeight: rng.uniform(0.4, 0.6),
        shop: false,
        seed: rng.seed(),
      });
      x += w;
    }
  } else if (rng.chance(0.5)) {
    objects.push({
      kind: 'treeline',
      orient: 'z',
      pos: zEnd + rng.uniform(30, 100),
      a0: -400,
      a1: 400,
      height: rng.uniform(6, 15),
      amp: rng.uniform(2, 5),
      seed: rng.seed(),
    });
  }

  // --- walls, fences, hedges --------------------------------------------------------------------------------
  for (const side of [left, right]) {
    if (side.yard && rng.chance(0.6)) {
      const type = rng.pick(['wall', 'fence', 'hedge'] as const);
      let z = rng.uniform(-5, 20);
      const zStop = Math.min(zEnd, 120);
      while (z < zStop) {
        const length = rng.uniform(6, 30);
        objects.push({
          kind: 'barrier',
          type,
          x: side.walkOuter + side.sign * 0.1,
          z0: z,
          z1: Math.min(z + length, zStop),
          height: type === 'wall' ? rng.uniform(0.8, 2.2) : type === 'fence' ? rng.uniform(1, 1.8) : rng.uniform(0.8, 1.6),
          seed: rng.seed(),
        });
        z += length + rng.uniform(2, 20);
      }
    }
  }
  for (const gap of gaps) {
    if (gap.z1 - gap.z0 > 1 && rng.chance(0.5)) {
      const type = rng.pick(['wall', 'fence'] as const);
      objects.push({
        kind: 'barrier',
        type,
        x: gap.side.buildingLine + gap.side.sign * 0.3,
        z0: gap.z0,
        z1: gap.z1,
        height: type === 'wall' ? rng.uniform(1, 2.5) : rng.uniform(1.2, 2),
        seed: rng.seed(),
      });
    }
  }

  // --- street furniture and vegetation --------------------------------------------------------------------
  for (const side of [left, right]) {
    if (rng.chance(0.7)) {
      const x = side.edge + side.sign * 0.55;
      for (let z = rng.uniform(4, 25); z < Math.min(zEnd, 150); z += rng.uniform(20, 35)) {
        if (z < MIN_OBJECT_Z || !place({ x0: x - 0.15, x1: x + 0.15, z0: z - 0.15, z1: z + 0.15 })) continue;
        objects.push({
          kind: 'streetlight',
          x,
          z,
          height: rng.uniform(6.5, 9),
          armDir: -side.sign,
          armLength: rng.uniform(0.8, 2),
          seed: rng.seed(),
        });
      }
    }
    if (rng.chance(0.5)) {
      const x = side.strip
        ? (side.strip[0] + side.strip[1]) / 2
        : side.yard
          ? (side.yard[0] + side.yard[1]) / 2
          : side.walkInner + side.sign * 0.9;
      for (let z = rng.uniform(3, 12); z < Math.min(zEnd, 100); z += rng.uniform(7, 14)) {
        if (!rng.chance(0.85) || z < MIN_OBJECT_Z) continue;
        if (!place({ x0: x - 0.2, x1: x + 0.2, z0: z - 0.2, z1: z + 0.2 })) continue;
        objects.push({
          kind: 'tree',
          x,
          z,
          trunkHeight: rng.uniform(1.8, 3),
          trunkWidth: rng.uniform(0.25, 0.4),
          crownRadius: rng.uniform(1.3, 3),
          seed: rng.seed(),
        });
      }
    }
  }
  const signCount = rng.int(0, 3);
  for (let i = 0; i < signCount; i++) {
    const side = rng.chance(0.6) ? right : left;
    const x = side.edge + side.sign * rng.uniform(0.4, 0.9);
    const z = rng.uniform(6, 60);
    if (!place({ x0: x - 0.3, x1: x + 0.3, z0: z - 0.2, z1: z + 0.2 })) continue;
    objects.push({
      kind: 'sign',
      x,
      z,
      height: rng.uniform(2.0, 2.6),
      shape: rng.pick(['circle', 'triangle', 'square', 'rect'] as const),
      size: rng.uniform(0.55, 0.8),
      seed: rng.seed(),
    });
  }
  if (rng.chance(0.45)) {
    const z = crosswalks[0] ? crosswalks[0].z0 - 1 : rng.uniform(15, 45);
    for (const side of [right, left]) {
      if (side === left && !rng.chance(0.6)) continue;
      const x = side.edge + side.sign * 0.6;
      if (!place({ x0: x - 0.2, x1: x + 0.2, z0: z - 0.2, z1: z + 0.2 })) continue;
      const overhead = rng.chance(0.35);
      objects.push({
        kind: 'trafficLight',
        x,
        z,
        height: overhead ? rng.uniform(5.5, 6.5) : rng.uniform(3.4, 4),
        armLength: overhead ? rng.uniform(3, 6) : 0,
        armDir: -side.sign,
        state: rng.int(0, 2),
        seed: rng.seed(),
      });
    }
  }

  // --- people and cycles ------------------------------------------------------------------------------------
  const personCount = rng.int(1, 8);
  for (let i = 0; i < personCount; i++) {
    const side = rng.chance(0.5) ? right : left;
    const x = side.walkInner + (side.walkOuter - side.walkInner) * rng.uniform(0.15, 0.85);
    const z = MIN_OBJECT_Z + 55 * Math.pow(rng.next(), 1.5);
    if (!place({ x0: x - 0.3, x1: x + 0.3, z0: z - 0.3, z1: z + 0.3 }, 0.1)) continue;
    objects.push({ kind: 'person', x, z, height: rng.uniform(1.55, 1.95), stride: rng.next(), seed: rng.seed() });
  }
  for (const cw of crosswalks) {
    const n = rng.int(0, 3);
    for (let i = 0; i < n; i++) {
      const x = rng.uniform(cw.x0 + 0.5, cw.x1 - 0.5);
      const z = rng.uniform(cw.z0 + 0.5, cw.z1 - 0.5);
      if (!place({ x0: x - 0.3, x1: x + 0.3, z0: z - 0.3, z1: z + 0.3 }, 0.1)) continue;
      objects.push({ kind: 'person', x, z, height: rng.uniform(1.55, 1.95), stride: rng.next(), seed: rng.seed() });
    }
  }
  const riderCount = rng.chance(0.6) ? rng.int(1, 2) : 0;
  for (let i = 0; i < riderCount; i++) {
    const x = lanesRight - rng.uniform(0.6, 1.1);
    const z = rng.uniform(7, 40);
    const length = 1.75;
    if (!place({ x0: x - 0.35, x1: x + 0.35, z0: z, z1: z + length })) continue;
    objects.push({ kind: 'cycle', x, z, length, motor: rng.chance(0.3), rider: true, away: true, seed: rng.seed() });
  }
  const parkedBikes = rng.chance(0.35) ? rng.int(1, 3) : 0;
  for (let i = 0; i < parkedBikes; i++) {
    const side = rng.chance(0.5) ? right : left;
    const x = side.walkOuter - side.sign * 0.5;
    const z = rng.uniform(MIN_OBJECT_Z, 40);
    if (!place({ x0: x - 0.3, x1: x + 0.3, z0: z, z1: z + 1.7 })) continue;
    objects.push({ kind: 'cycle', x, z, length: 1.7, motor: false, rider: false, away: rng.chance(0.5), seed: rng.seed() });
  }

  // --- vehicles -------------------------------------------------------------------------------------------
  let cars = 0;
  const addVehicle = (type: VehicleType, xc: number, z0: number, facing: 'away' | 'toward'): boolean => {
    const dims: Record<VehicleType, () => [number, number, number]> = {
      car: () => [rng.uniform(1.7, 1.9), rng.uniform(3.9, 4.8), rng.uniform(1.4, 1.55)],
      truck: () => [2.4, rng.uniform(7, 10), rng.uniform(3, 3.6)],
      bus: () => [2.5, rng.uniform(11, 13), rng.uniform(3, 3.3)],
      train: () => [2.6, rng.uniform(25, 30), 3.4],
    };
    const [w, length, h] = dims[type]();
    const fp = { x0: xc - w / 2, x1: xc + w / 2, z0, z1: z0 + length };
    if (z0 < MIN_OBJECT_Z || !place(fp, 0.5)) return false;
    objects.push({ kind: 'vehicle', type, ...fp, height: h, facing, seed: rng.seed() });
    // count only cars roughly inside the field of view (half-angle ~24 degrees plus yaw)
    if (type === 'car' && Math.abs(xc - z0 * Math.tan(camera.yaw)) < 0.38 * z0) cars++;
    return true;
  };
  for (const [side, park] of [
    [left, parkLeft],
    [right, parkRight],
  ] as const) {
    if (park <= 0) continue;
    const xc = side.edge - side.sign * 1.1;
    let z = rng.uniform(0, 8);
    while (z < Math.min(zEnd, 90)) {
      if (rng.chance(0.7)) {
        const start = Math.max(z, MIN_OBJECT_Z);
        addVehicle('car', xc + rng.uniform(-0.1, 0.1), start, rng.chance(0.8) === (side.sign > 0) ? 'away' : 'toward');
        z = start + 4.8 + rng.uniform(0.6, 5);
      } else {
        z += rng.uniform(2, 8);
      }
    }
  }
  const driving = rng.int(0, 4);
  for (let i = 0; i < driving; i++) {
    const lane = rng.int(0, nLanes - 1);
    const facing = lane < oncoming ? 'toward' : 'away';
    const r = rng.next();
    const type: VehicleType = r < 0.12 ? 'truck' : r < 0.22 ? 'bus' : r < 0.25 && nLanes >= 3 ? 'train' : 'car';
    const z0 = rng.uniform(lane === egoLane ? 10 : 6, 80);
    addVehicle(type, laneCentre(lane) + rng.uniform(-0.3, 0.3), z0, facing);
  }
  for (let attempt = 0; cars === 0 && attempt < 30; attempt++) {
    const lane = rng.int(0, nLanes - 1);
    addVehicle('car', laneCentre(lane) + rng.uniform(-0.3, 0.3), rng.uniform(8, 35), lane < oncoming ? 'toward' : 'away');
  }

  return { camera, zones, lines, crosswalks, objects, seed: rng.seed() };
}
