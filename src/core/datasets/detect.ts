// Recognises the three dataset layouts (DATASETS.md) from a folder the user picked.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError, type DatasetKind } from '../../shared/api';
import type { Layout } from '../store/datasetsRepo';
import { DEPTH_SOURCES, type DepthOption } from './depthSources';

export interface Detected {
  kind: DatasetKind;
  root: string;
  layout: Layout;
  /** The depth sources whose folders exist, in the order the import prefers them (depthSources.ts). */
  depthOptions: DepthOption[];
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const firstDir = (root: string, candidates: string[]): string | null =>
  candidates.find((c) => isDir(join(root, c))) ?? null;

function depthOptions(root: string, kind: DatasetKind): DepthOption[] {
  return DEPTH_SOURCES[kind].flatMap((spec) => {
    const dir = firstDir(root, [...spec.dirs]);
    return dir ? [{ source: spec.source, dir }] : [];
  });
}

function detected(kind: DatasetKind, root: string, layout: Omit<Layout, 'depthDir'>): Detected {
  const options = depthOptions(root, kind);
  return { kind, root, layout: { ...layout, depthDir: options[0]?.dir ?? null }, depthOptions: options };
}

function detectCityscapes(root: string): Detected | null {
  const rgbDir = firstDir(root, ['leftImg8bit', 'leftImg8bit_trainvaltest/leftImg8bit']);
  if (!rgbDir) return null;
  return detected('cityscapes', root, {
    rgbDir,
    labelDir: firstDir(root, ['gtFine', 'gtFine_trainvaltest/gtFine']),
    cameraDir: firstDir(root, ['camera', 'camera_trainvaltest/camera']),
  });
}

function detectGta5(root: string): Detected | null {
  if (!isDir(join(root, 'images')) || !isDir(join(root, 'labels'))) return null;
  return detected('gta5', root, { rgbDir: 'images', labelDir: 'labels', cameraDir: null });
}

function detectSynthia(root: string): Detected | null {
  if (!isDir(join(root, 'RGB')) || !isDir(join(root, 'GT', 'LABELS'))) return null;
  return detected('synthia', root, { rgbDir: 'RGB', labelDir: 'GT/LABELS', cameraDir: null });
}

export const EXPECTED_LAYOUTS =
  'a Cityscapes folder (leftImg8bit/ with gtFine/, or the parent of leftImg8bit_trainvaltest/ and gtFine_trainvaltest/), ' +
  'a GTA5 folder (images/ and labels/) or a SYNTHIA-RAND-CITYSCAPES folder (RGB/ and GT/LABELS/)';

/** Names the dataset folders directly inside `folder` (the CorDA data tree's data/ holds CityScapes, gta, RAND_CITYSCAPES). */
function datasetsInsideHint(folder: string): string {
  let names: string[];
  try {
    names = readdirSync(folder, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort().slice(0, 200);
  } catch {
    return '';
  }
  const inside = names.filter((name) => {
    const child = join(folder, name);
    return Boolean(detectCityscapes(child) ?? detectGta5(child) ?? detectSynthia(child));
  });
  return inside.length ? `; it holds dataset folders (${inside.join(', ')}): import each of them on its own` : '';
}

/** `folder` must be an absolute, resolved path. Throws a UserError naming what was expected. */
export function detectDataset(folder: string): Detected {
  if (!existsSync(folder)) throw new UserError(`${folder} does not exist. Pick ${EXPECTED_LAYOUTS}.`);
  if (!statSync(folder).isDirectory()) throw new UserError(`${folder} is a file, not a folder. Pick ${EXPECTED_LAYOUTS}.`);
  const found = detectCityscapes(folder) ?? detectGta5(folder) ?? detectSynthia(folder);
  if (found) return found;
  // The user picked the leftImg8bit folder itself: its parent is the Cityscapes root.
  if (basename(folder) === 'leftImg8bit') {
    const parentFound = detectCityscapes(dirname(folder));
    if (parentFound) return parentFound;
  }
  throw new UserError(`${folder} is not a dataset folder the workbench knows: expected ${EXPECTED_LAYOUTS}${datasetsInsideHint(folder)}.`);
}
