// One way into a round. A request from the contract (the Rounds form, the web client, `corda adapt`) gets its
// defaults, is validated and is checked against the project's datasets here, once, before the round worker
// starts; the worker then runs the plan as it is (./round.ts).
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { METHOD_TRAITS, TRAINING_SPLIT, UserError, type StartRoundInput } from '../../shared/api';
import type { Db } from '../store/db';
import { getDataset, getImage, listImages, type StoredImage } from '../store/datasetsRepo';
import * as rounds from '../store/roundsRepo';
import { defaultConfig, type RoundConfig } from './config';
import { workingSize } from './data';

export interface RoundRequest {
  sourceDatasetId: number;
  targetDatasetId: number;
  config: RoundConfig;
  /** Start from this round's student weights (round N+1 from round N). */
  parentRoundId?: number | null;
}

/** An interrupted round to continue: its stored request, with the configuration completed by today's defaults. */
export interface ResumePlan extends RoundRequest {
  roundId: number;
}

/** Settings with their own field in the request, so a recipe cannot set them. */
const RECIPE_EXCLUDED = ['method', 'preset', 'crop', 'init', 'initFrom', 'pretrained'];

/** A recipe's settings checked by name and type against the round configuration. */
function recipeOverrides(recipe: Record<string, unknown>): Partial<RoundConfig> {
  const known = defaultConfig('corda', 'tiny') as unknown as Record<string, unknown>;
  const allowed = Object.keys(known).filter((k) => !RECIPE_EXCLUDED.includes(k));
  for (const [key, value] of Object.entries(recipe)) {
    if (!allowed.includes(key)) throw new UserError(`The recipe does not know the setting "${key}" (known: ${allowed.join(', ')}).`);
    if (known[key] !== null && typeof value !== typeof known[key]) throw new UserError(`The recipe's ${key} must be a ${typeof known[key]}, got ${JSON.stringify(value)}.`);
  }
  return recipe as Partial<RoundConfig>;
}

/** A file the round reads (a checkpoint, an encoder folder): a full path to something that exists. */
function checkPath(path: string, what: string, kind: 'file' | 'folder'): void {
  if (!isAbsolute(path)) throw new UserError(`The ${what} "${path}" must be given as a full path (e.g. /home/me/${kind === 'file' ? 'checkpoint.pth' : 'encoder'}).`);
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new UserError(`There is no ${what} ${kind} at "${path}".`);
  }
  if (kind === 'file' && !stat.isFile()) throw new UserError(`"${path}" is not a file; give the ${what} file itself.`);
}

/** A new round's request: defaults applied, the configuration validated, the datasets checked. Writes nothing. */
export function planRound(db: Db, input: StartRoundInput): RoundRequest {
  const { init, pretrained, parentRoundId } = input;
  if (init && parentRoundId !== undefined) throw new UserError(`A round starts from one set of weights: round ${parentRoundId} or a checkpoint file, not both.`);
  if (init) checkPath(init.file, 'checkpoint', 'file');
  if (input.variant !== undefined && input.preset !== 'paper') throw new UserError(`The variant applies to the paper preset only (the reference network's GTA or SYNTHIA form).`);
  const config = defaultConfig(input.method, input.preset, {
    ...(input.iters !== undefined && { iters: input.iters }),
    ...(input.seed !== undefined && { seed: input.seed }),
    ...(input.batchSize !== undefined && { batchSize: input.batchSize }),
    ...(input.checkpointEvery !== undefined && { checkpointEvery: input.checkpointEvery }),
    ...(input.evalEvery !== undefined && { evalEvery: input.evalEvery }),
    ...(pretrained !== undefined && { pretrained }),
    ...(init && { init: init.file, initFrom: init.from }),
    ...(input.useCorrections !== undefined && { useCorrections: input.useCorrections }),
    ...(input.variant !== undefined && { variant: input.variant }),
    // One width for both domains: quick runs on small images (the presets scale source and target apart).
    ...(input.workingWidth !== undefined && { sourceWidth: input.workingWidth, targetWidth: input.workingWidth }),
    ...(input.recipe && recipeOverrides(input.recipe)),
    ...(input.crop && { crop: input.crop }),
  });
  // After the configuration, so that a pretrained folder on a preset that takes none is told so first.
  if (pretrained !== undefined) checkPath(pretrained, 'pretrained encoder', 'folder');
  const request = { sourceDatasetId: input.sourceDatasetId, targetDatasetId: input.targetDatasetId, config, parentRoundId: parentRoundId ?? null };
  checkRoundData(db, request);
  return request;
}

/** An interrupted round to continue: it exists, is not finished, and its datasets still hold what it trains on. */
export function planResume(db: Db, roundId: number): ResumePlan {
  const round = rounds.getRound(db, roundId);
  if (!round) throw new UserError(`There is no round ${roundId} in this project.`);
  if (round.status === 'done') throw new UserError(`Round ${roundId} is already finished.`);
  const config = defaultConfig(round.method as RoundConfig['method'], round.preset as RoundConfig['preset'], round.config as Partial<RoundConfig>);
  const plan = { roundId, sourceDatasetId: round.sourceDatasetId, targetDatasetId: round.targetDatasetId, config, parentRoundId: round.parentId };
  // The parent was read when the round started: its weights are in the round's checkpoints now.
  checkRoundData(db, { ...plan, parentRoundId: null });
  return plan;
}

/** A dataset's images as the store keeps them, in the store's order. */
export function images(db: Db, datasetId: number): StoredImage[] {
  return listImages(db, { datasetId }).map((i) => getImage(db, i.id)!);
}

/** What a round trains on: the source's labelled images and the target's training split. */
export function roundImages(db: Db, req: Pick<RoundRequest, 'sourceDatasetId' | 'targetDatasetId'>): { source: StoredImage[]; target: StoredImage[] } {
  return {
    source: images(db, req.sourceDatasetId).filter((i) => i.labelPath),
    target: images(db, req.targetDatasetId).filter((i) => i.split === TRAINING_SPLIT),
  };
}

/** Checks the request against the datasets; one sentence per problem, nothing written. */
function checkRoundData(db: Db, req: RoundRequest): void {
  const source = getDataset(db, req.sourceDatasetId);
  const target = getDataset(db, req.targetDatasetId);
  if (!source) throw new UserError(`There is no dataset ${req.sourceDatasetId} in this project (see \`corda datasets\`).`);
  if (!target) throw new UserError(`There is no dataset ${req.targetDatasetId} in this project (see \`corda datasets\`).`);
  if (req.parentRoundId != null && !rounds.getRound(db, req.parentRoundId)) throw new UserError(`There is no round ${req.parentRoundId} to start from.`);
  const data = roundImages(db, req);
  if (data.source.length === 0) throw new UserError(`The source dataset "${source.name}" has no images with labels to learn from.`);
  if (data.target.length === 0) throw new UserError(`The target dataset "${target.name}" has no ${TRAINING_SPLIT} images to adapt to.`);
  if (METHOD_TRAITS[req.config.method].depth) {
    const noDepth = (list: StoredImage[]) => list.filter((i) => !i.depthPath).length;
    if (noDepth(data.source) > 0) throw new UserError(`CorDA needs depth for every source image, but ${noDepth(data.source)} of "${source.name}" have none; add depth or run --method dacs.`);
    if (noDepth(data.target) > 0) throw new UserError(`CorDA needs depth for every target train image, but ${noDepth(data.target)} of "${target.name}" have none; add depth or run --method dacs.`);
  }
  const { crop, sourceWidth, targetWidth } = req.config;
  for (const [list, width, name] of [[data.source, sourceWidth, source.name], [data.target, targetWidth, target.name]] as const) {
    const size = workingSize(list[0]!, width);
    if (crop.width > size.width || crop.height > size.height) {
      throw new UserError(`The crop ${crop.width}x${crop.height} is larger than "${name}" at its working size ${size.width}x${size.height}; choose a smaller crop.`);
    }
  }
}
