// `corda export-samples`: what a round trained and was scored on, for a twin outside the engine (the PyTorch
// round twin, scripts/twin_round.py). The images go through the engine's own loader (loadSample: sharp's bilinear
// resize to the working size, nearest-neighbour trainIds and depth targets), so a twin sees the same pixels.
//   OUT/round.json   the round's configuration (depth scale resolved) and preset, its parent's final checkpoint,
//                    its training threads and metrics
//   OUT/source/      the source images the round drew crops from (rgb, trainIds, depth), in the round's order
//   OUT/target/      the target train images (rgb, depth), in the round's order
//   OUT/val/         the target val images with ground truth (rgb at the working size, trainIds at full size)
// Each folder: manifest.json (per image: name, size and the offset of each array) and one raw file per array:
// rgb.u8 (HWC), labels.u8, depth.f32 (little-endian), gt.u8.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../shared/api';
import { defaultConfig, type RoundConfig } from '../core/adapt/config';
import { loadSample, type SampleOptions } from '../core/adapt/data';
import { roundImages } from '../core/adapt/plan';
import { finalCheckpoint } from '../core/adapt/roundCheckpoints';
import { labelledValImages } from '../core/adapt/valCurve';
import { containedPath } from '../core/datasets/assets';
import { readTrainIds } from '../core/datasets/labelsIO';
import { PRESETS, type Method, type PresetName } from '../core/model/network';
import { openProjectDb } from '../core/store/db';
import { getImage, listImages, type StoredImage } from '../core/store/datasetsRepo';
import { getRound } from '../core/store/roundsRepo';
import type { CommandHelpers } from './engineCommands';

type ArrayName = 'rgb' | 'labels' | 'depth' | 'gt';
const FILES: Record<ArrayName, string> = { rgb: 'rgb.u8', labels: 'labels.u8', depth: 'depth.f32', gt: 'gt.u8' };

/** Appends each image's arrays to one raw file per array and records where they are. */
class SampleWriter {
  private readonly fds = new Map<ArrayName, number>();
  private readonly offsets = new Map<ArrayName, number>();
  private readonly images: Record<string, unknown>[] = [];

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private append(name: ArrayName, data: Uint8Array | Float32Array): number {
    if (!this.fds.has(name)) this.fds.set(name, openSync(join(this.dir, FILES[name]), 'w'));
    const offset = this.offsets.get(name) ?? 0;
    writeSync(this.fds.get(name)!, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.offsets.set(name, offset + data.length);
    return offset;
  }

  add(image: StoredImage, width: number, height: number, arrays: Partial<Record<ArrayName, Uint8Array | Float32Array | null>>, gtSize?: { width: number; height: number }) {
    const entry: Record<string, unknown> = { id: image.id, name: image.name, split: image.split, width, height };
    for (const [name, data] of Object.entries(arrays) as [ArrayName, Uint8Array | Float32Array | null][]) if (data) entry[name] = this.append(name, data);
    if (gtSize) entry.gtSize = gtSize;
    this.images.push(entry);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    writeFileSync(join(this.dir, 'manifest.json'), JSON.stringify({ format: 'corda-samples-1', files: FILES, images: this.images }));
  }
}

async function writeSamples(dir: string, images: StoredImage[], width: number, options: SampleOptions): Promise<void> {
  const writer = new SampleWriter(dir);
  try {
    for (const image of images) {
      const s = await loadSample(image, width, options);
      writer.add(image, s.width, s.height, { rgb: s.rgb, labels: s.labels, depth: s.depth });
    }
  } finally {
    writer.close();
  }
}

async function writeValSamples(dir: string, images: StoredImage[], width: number): Promise<void> {
  const writer = new SampleWriter(dir);
  try {
    for (const image of images) {
      const s = await loadSample(image, width, { labels: false, depth: false });
      const gt = await readTrainIds(containedPath(image.root, image.labelPath!), image.kind);
      writer.add(image, s.width, s.height, { rgb: s.rgb, gt: gt.data }, { width: gt.width, height: gt.height });
    }
  } finally {
    writer.close();
  }
}

export async function exportSamplesCommand(args: string[], h: CommandHelpers): Promise<void> {
  const { values } = h.parse(args, { project: { type: 'string' }, round: { type: 'string' }, out: { type: 'string' }, 'no-samples': { type: 'boolean' } });
  const projectDir = h.requireProject(values.project as string | undefined);
  const id = Number(values.round);
  if (typeof values.round !== 'string' || !Number.isInteger(id) || id < 1) throw h.usage(`--round needs a round id (a positive whole number), got "${String(values.round ?? '')}".`);
  if (typeof values.out !== 'string') throw h.usage('--out DIR is required: the folder to write the samples and round.json to.');
  const out = resolve(values.out);
  const db = openProjectDb(projectDir);
  try {
    const round = getRound(db, id);
    if (!round) throw new UserError(`There is no round ${id} in this project.`);
    const config: RoundConfig = defaultConfig(round.method as Method, round.preset as PresetName, round.config as Partial<RoundConfig>);
    const data = roundImages(db, round);
    const parentCheckpoint = round.parentId != null ? finalCheckpoint(db, round.parentId).path : null;
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'round.json'), JSON.stringify({ roundId: id, config, preset: PRESETS[config.preset], parentCheckpoint, threads: round.timings?.threads ?? null, metrics: round.metrics }, null, 1));
    if (values['no-samples']) return;
    const targetAll = listImages(db, { datasetId: round.targetDatasetId }).map((i) => getImage(db, i.id)!);
    await writeSamples(join(out, 'source'), data.source, config.sourceWidth, { labels: true, depth: true });
    await writeSamples(join(out, 'target'), data.target, config.targetWidth, { labels: false, depth: true });
    await writeValSamples(join(out, 'val'), labelledValImages(targetAll), config.targetWidth);
    console.log(JSON.stringify({ out, source: data.source.length, target: data.target.length, val: labelledValImages(targetAll).length }));
  } finally {
    db.close();
  }
}
