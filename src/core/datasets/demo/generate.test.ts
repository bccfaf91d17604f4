import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_ID_TO_TRAIN_ID, SYNTHIA_TO_TRAIN, TRAIN_CLASSES, VOID_LABEL_IDS } from '../../../shared/labels';
import {
  cityscapesLayout,
  CITYSCAPES_BASELINE,
  DEMO_DEFAULTS,
  depthToTarget,
  encodeCityscapesDisparity,
  encodeMonodepthDisparity,
  encodeSynthiaDepth,
  generateDemoData,
  type DemoResult,
} from './generate';
import { SOURCE_STYLE, styleClassColours, TARGET_STYLE } from './render';

const W = 128;
const H = 64;
const N = 5;
const SEED = 7;

const id = (name: string): number => TRAIN_CLASSES.find((c) => c.name === name)!.labelId;
const ROAD = id('road');
const SKY = id('sky');
const VALID_IDS = new Set(TRAIN_CLASSES.map((c) => c.labelId));

let root: string;
let resultA: DemoResult;
let resultB: DemoResult;
let resultC: DemoResult;
const progress: Array<[number, number]> = [];

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

async function png(path: string): Promise<ReturnType<typeof decode>> {
  return decode(await readFile(path));
}

function csPaths(r: DemoResult, split: string, city: string, stem: string) {
  const c = r.cityscapes;
  return {
    image: join(c, 'leftImg8bit', split, city, `${stem}_leftImg8bit.png`),
    label: join(c, 'gtFine', split, city, `${stem}_gtFine_labelIds.png`),
    disparity: join(c, 'disparity', split, city, `${stem}_disparity.png`),
    camera: join(c, 'camera', split, city, `${stem}_camera.json`),
  };
}

const gtaName = (i: number): string => `${String(i + 1).padStart(5, '0')}.png`;
const synthiaName = (i: number): string => `${String(i).padStart(7, '0')}.png`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'corda-demo-'));
  const opts = { images: N, width: W, height: H, seed: SEED, synthia: true };
  resultA = await generateDemoData(join(root, 'a'), { ...opts, onProgress: (d, t) => progress.push([d, t]) });
  resultB = await generateDemoData(join(root, 'b'), opts);
  resultC = await generateDemoData(join(root, 'c'), { ...opts, images: 2, seed: SEED + 1 });
}, 60_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('generateDemoData', () => {
  it('writes the GTA5, Cityscapes and SYNTHIA layouts with the right sizes and bit depths', async () => {
    expect(resultA.counts).toEqual({ gta5: N, cityscapes: { train: 3, val: 1, test: 1 }, synthia: N });
    for (let i = 0; i < N; i++) {
      const img = await png(join(resultA.gta5, 'images', gtaName(i)));
      expect([img.width, img.height, img.channels, img.depth]).toEqual([W, H, 3, 8]);
      const lab = await png(join(resultA.gta5, 'labels', gtaName(i)));
      expect([lab.width, lab.height, lab.channels, lab.depth]).toEqual([W, H, 1, 8]);
      const disp = await png(join(resultA.gta5, 'disparity', gtaName(i)));
      expect([disp.width, disp.height, disp.channels, disp.depth]).toEqual([W, H, 1, 16]);

      const rgb = await png(join(resultA.synthia!, 'RGB', synthiaName(i)));
      expect([rgb.width, rgb.height, rgb.channels, rgb.depth]).toEqual([W, H, 3, 8]);
      const sl = await png(join(resultA.synthia!, 'GT', 'LABELS', synthiaName(i)));
      expect([sl.width, sl.height, sl.channels, sl.depth]).toEqual([W, H, 3, 16]);
      const sd = await png(join(resultA.synthia!, 'Depth', 'Depth', synthiaName(i)));
      expect([sd.width, sd.height, sd.channels, sd.depth]).toEqual([W, H, 1, 16]);
    }
    const layout = cityscapesLayout(N);
    expect(layout.map((e) => `${e.split}/${e.city}/${e.stem}`)).toEqual([
      'train/aachen/aachen_000000_000019',
      'train/aachen/aachen_000001_000019',
      'train/bochum/bochum_000000_000019',
      'val/frankfurt/frankfurt_000000_000019',
      'test/berlin/berlin_000000_000019',
    ]);
    for (const e of layout) {
      const p = csPaths(resultA, e.split, e.city, e.stem);
      const img = await png(p.image);
      expect([img.width, img.height, img.channels, img.depth]).toEqual([W, H, 3, 8]);
      const lab = await png(p.label);
      expect([lab.width, lab.height, lab.channels, lab.depth]).toEqual([W, H, 1, 8]);
      const disp = await png(p.disparity);
      expect([disp.width, disp.height, disp.channels, disp.depth]).toEqual([W, H, 1, 16]);
      const cam = JSON.parse(await readFile(p.camera, 'utf8'));
      expect(cam.extrinsic.baseline).toBe(CITYSCAPES_BASELINE);
      expect(cam.intrinsic.fx).toBeCloseTo((2262.52 * W) / 2048, 3);
      expect(cam.intrinsic.u0).toBeCloseTo(W / 2, 3);
      expect(cam.intrinsic.v0).toBeGreaterThan(0.3 * H);
      expect(cam.intrinsic.v0).toBeLessThan(0.6 * H);
    }
    // nothing else, and no temporary files left behind
    const all = (await listFiles(join(root, 'a'))).map((f) => relative(join(root, 'a'), f));
    expect(all.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(all).toHaveLength(N * 3 + N * 4 + N * 3);
  });

  it('reports progress once per image', () => {
    expect(progress).toHaveLength(3 * N);
    expect(progress.at(-1)).toEqual([3 * N, 3 * N]);
    expect(progress.map((p) => p[0])).toEqual(Array.from({ length: 3 * N }, (_, i) => i + 1));
  });

  it('is deterministic: the same seed gives identical bytes, another seed different images', async () => {
    expect(resultB.counts).toEqual(resultA.counts);
    const filesA = await listFiles(join(root, 'a'));
    const filesB = await listFiles(join(root, 'b'));
    expect(filesB.map((f) => relative(join(root, 'b'), f))).toEqual(filesA.map((f) => relative(join(root, 'a'), f)));
    for (let i = 0; i < filesA.length; i++) {
      expect(Buffer.compare(await readFile(filesA[i]!), await readFile(filesB[i]!)), filesA[i]).toBe(0);
    }
    const a = await readFile(join(resultA.gta5, 'images', gtaName(0)));
    const c = await readFile(join(resultC.gta5, 'images', gtaName(0)));
    expect(Buffer.compare(a, c)).not.toBe(0);
    const la = await readFile(join(resultA.gta5, 'labels', gtaName(0)));
    const lc = await readFile(join(resultC.gta5, 'labels', gtaName(0)));
    expect(Buffer.compare(la, lc)).not.toBe(0);
  });

  it('writes valid labelIds covering the main classes, with sky never having depth', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < N; i++) {
      const lab = (await png(join(resultA.gta5, 'labels', gtaName(i)))).data;
      const disp = (await png(join(resultA.gta5, 'disparity', gtaName(i)))).data;
      let skyWithDepth = 0;
      for (let p = 0; p < lab.length; p++) {
        const l = lab[p]!;
        seen.add(l);
        if (l === SKY && disp[p] !== 0) skyWithDepth++;
      }
      expect(skyWithDepth).toBe(0);
    }
    for (const l of seen) expect(VALID_IDS.has(l), `labelId ${l}`).toBe(true);
    for (const name of ['road', 'sky', 'building', 'car', 'sidewalk', 'vegetation', 'pole']) {
      expect(seen.has(id(name)), name).toBe(true);
    }
    expect(seen.size).toBeGreaterThanOrEqual(8);
  });

  it('gives Cityscapes labelled images an ego-vehicle hood without depth, and all-zero test labels', async () => {
    for (const e of cityscapesLayout(N)) {
      const p = csPaths(resultA, e.split, e.city, e.stem);
      const lab = (await png(p.label)).data;
      const disp = (await png(p.disparity)).data;
      if (e.split === 'test') {
        expect(lab.every((x) => x === 0)).toBe(true);
        expect(disp.some((x) => x > 0)).toBe(true);
        continue;
      }
      for (let u = 0; u < W; u++) expect(lab[(H - 1) * W + u]).toBe(VOID_LABEL_IDS.egoVehicle);
      let ego = 0;
      const bad = { egoHigh: 0, egoDepth: 0, invalidId: 0, skyDepth: 0 };
      for (let q = 0; q < lab.length; q++) {
        const l = lab[q]!;
        if (l === VOID_LABEL_IDS.egoVehicle) {
          ego++;
          if (Math.floor(q / W) < Math.floor(0.85 * H)) bad.egoHigh++;
          if (disp[q] !== 0) bad.egoDepth++;
        } else if (!VALID_IDS.has(l)) {
          bad.invalidId++;
        }
        if (l === SKY && disp[q] !== 0) bad.skyDepth++;
      }
      expect(bad).toEqual({ egoHigh: 0, egoDepth: 0, invalidId: 0, skyDepth: 0 });
      expect(ego / lab.length).toBeGreaterThan(0.04);
      expect(ego / lab.length).toBeLessThan(0.13);
    }
  });

  it('has depth increasing towards the horizon on the road, consistent with the camera', async () => {
    for (let i = 0; i < N; i++) {
      const lab = (await png(join(resultA.gta5, 'labels', gtaName(i)))).data;
      const disp = (await png(join(resultA.gta5, 'disparity', gtaName(i)))).data;
      let pairs = 0;
      let notIncreasing = 0;
      for (let v = 0; v < H - 1; v++) {
        for (let u = 0; u < W; u++) {
          const a = v * W + u;
          const b = a + W;
          if (lab[a] !== ROAD || lab[b] !== ROAD || disp[a] === 0) continue;
          // disparity (inverse depth) shrinks going up, so depth grows towards the horizon
          if (!(disp[a]! < disp[b]!)) notIncreasing++;
          pairs++;
        }
      }
      expect(notIncreasing).toBe(0);
      expect(pairs).toBeGreaterThan(100);
    }
    // Cityscapes: depth from disparity and the camera json matches the flat-ground geometry f * h / (v - v0)
    for (const e of cityscapesLayout(N).filter((x) => x.split !== 'test')) {
      const p = csPaths(resultA, e.split, e.city, e.stem);
      const lab = (await png(p.label)).data;
      const disp = (await png(p.disparity)).data;
      const cam = JSON.parse(await readFile(p.camera, 'utf8'));
      let checked = 0;
      let worst = 0;
      for (let q = 0; q < lab.length; q++) {
        if (lab[q] !== ROAD || disp[q] === 0) continue;
        const v = Math.floor(q / W);
        const depth = (cam.extrinsic.baseline * cam.intrinsic.fx) / ((disp[q]! - 1) / 256);
        const ground = (cam.intrinsic.fx * cam.extrinsic.z) / (v + 0.5 - cam.intrinsic.v0);
        if (ground > 60) continue;
        worst = Math.max(worst, Math.abs(depth - ground) / ground);
        checked++;
      }
      expect(worst).toBeLessThan(0.02);
      expect(checked).toBeGreaterThan(100);
    }
  });

  it('writes SYNTHIA labels as class ids in the first channel and depth in cm with 65535 for sky', async () => {
    const synthiaSky = Number(Object.entries(SYNTHIA_TO_TRAIN).find(([, t]) => t === LABEL_ID_TO_TRAIN_ID[SKY])![0]);
    const synthiaRoad = Number(Object.entries(SYNTHIA_TO_TRAIN).find(([, t]) => t === LABEL_ID_TO_TRAIN_ID[ROAD])![0]);
    const known = new Set(Object.keys(SYNTHIA_TO_TRAIN).map(Number));
    for (let i = 0; i < N; i++) {
      const sl = (await png(join(resultA.synthia!, 'GT', 'LABELS', synthiaName(i)))).data;
      const sd = (await png(join(resultA.synthia!, 'Depth', 'Depth', synthiaName(i)))).data;
      let roadNear = 0;
      const bad = { unknownId: 0, otherChannels: 0, skyDepth: 0, nearRoadDepth: 0 };
      for (let p = 0; p < W * H; p++) {
        const cls = sl[p * 3]!;
        if (!known.has(cls)) bad.unknownId++;
        if (sl[p * 3 + 1] !== 0 || sl[p * 3 + 2] !== 0) bad.otherChannels++;
        if (cls === synthiaSky && sd[p] !== 65535) bad.skyDepth++;
        if (cls === synthiaRoad && Math.floor(p / W) === H - 1) {
          // bottom road row: a few metres away
          if (!(sd[p]! > 200 && sd[p]! < 2000)) bad.nearRoadDepth++;
          roadNear++;
        }
      }
      expect(bad).toEqual({ unknownId: 0, otherChannels: 0, skyDepth: 0, nearRoadDepth: 0 });
      expect(roadNear).toBeGreaterThan(0);
    }
  });

  it('makes the target look different from the source (road colour, saturation)', async () => {
    const stats = async (pairs: Array<[string, string]>) => {
      let sr = 0;
      let sg = 0;
      let sb = 0;
      let n = 0;
      let sat = 0;
      let all = 0;
      for (const [imagePath, labelPath] of pairs) {
        const img = (await png(imagePath)).data;
        const lab = (await png(labelPath)).data;
        for (let p = 0; p < lab.length; p++) {
          const r = img[p * 3]!;
          const g = img[p * 3 + 1]!;
          const b = img[p * 3 + 2]!;
          sat += Math.max(r, g, b) - Math.min(r, g, b);
          all++;
          if (lab[p] !== ROAD) continue;
          sr += r;
          sg += g;
          sb += b;
          n++;
        }
      }
      return { road: [sr / n, sg / n, sb / n] as const, saturation: sat / all };
    };
    const src = await stats(
      Array.from({ length: N }, (_, i) => [join(resultA.gta5, 'images', gtaName(i)), join(resultA.gta5, 'labels', gtaName(i))]),
    );
    const tgt = await stats(
      cityscapesLayout(N)
        .filter((e) => e.split !== 'test')
        .map((e) => {
          const p = csPaths(resultA, e.split, e.city, e.stem);
          return [p.image, p.label] as [string, string];
        }),
    );
    const dist = Math.hypot(src.road[0] - tgt.road[0], src.road[1] - tgt.road[1], src.road[2] - tgt.road[2]);
    expect(dist).toBeGreaterThan(25);
    expect(src.saturation).toBeGreaterThan(tgt.saturation * 1.5);
  });
});

describe('demo helpers', () => {
  it('encodes depth so that every domain decodes to the same CorDA target (CORDA.md §2)', () => {
    const depths = new Float32Array([4, 7.5, 20, 80, 300, Infinity]);
    const fx = (2262.52 * 512) / 2048;
    const gta = encodeMonodepthDisparity(depths);
    const cs = encodeCityscapesDisparity(depths, CITYSCAPES_BASELINE, fx);
    const syn = encodeSynthiaDepth(depths);
    for (let i = 0; i < depths.length - 1; i++) {
      const want = depthToTarget(depths[i]!);
      const fromGta = gta[i]! / 256 + 1;
      const fromSynthia = 65536 / (syn[i]! + 1);
      const csDepth = (CITYSCAPES_BASELINE * fx) / ((cs[i]! - 1) / 256);
      const fromCs = 655.36 / (csDepth + 0.01);
      for (const got of [fromGta, fromSynthia, fromCs]) expect(Math.abs(got - want) / want).toBeLessThan(0.01);
    }
    expect([gta[5], cs[5], syn[5]]).toEqual([0, 0, 65535]);
  });

  it('never uses the Cityscapes palette colour of a class as that class colour', () => {
    for (const style of [SOURCE_STYLE, TARGET_STYLE]) {
      for (const [trainId, colours] of styleClassColours(style)) {
        const pal = TRAIN_CLASSES[trainId]!.color;
        for (const c of colours) {
          expect(Math.hypot(c[0] - pal[0], c[1] - pal[1], c[2] - pal[2]), `${style.name} ${TRAIN_CLASSES[trainId]!.name}`).toBeGreaterThan(30);
        }
      }
    }
  });

  it('splits Cityscapes roughly 60/20/20 with every split present from 3 images', () => {
    const count = (n: number) => {
      const l = cityscapesLayout(n);
      return ['train', 'val', 'test'].map((s) => l.filter((e) => e.split === s).length);
    };
    expect(count(3)).toEqual([1, 1, 1]);
    expect(count(DEMO_DEFAULTS.images)).toEqual([14, 5, 5]);
    expect(count(1)).toEqual([1, 0, 0]);
    const stems = cityscapesLayout(100).map((e) => e.stem);
    expect(new Set(stems).size).toBe(100);
    for (const s of stems) expect(s).toMatch(/^[a-z]+_\d{6}_\d{6}$/);
  });
});
