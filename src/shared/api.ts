// The one API contract. Every request and event the renderer, the CLI or the web client can use is declared
// here with zod schemas; core/service.ts implements it, main/ and server/ carry it, preload/ exposes it.
import { z } from 'zod';
import { IMAGE_SCHEME, IPC_EVENT_CHANNEL, IPC_PREFIX, METHOD_NAMES, ipcChannel } from './channels';

export const DatasetKind = z.enum(['cityscapes', 'gta5', 'synthia']);
export type DatasetKind = z.infer<typeof DatasetKind>;
export const DatasetRole = z.enum(['source', 'target']);
export type DatasetRole = z.infer<typeof DatasetRole>;
/**
 * Where a dataset's depth comes from (CORDA.md §2): SFSU stereo depth in metres (.mat), monocular normalised
 * disparity (uint16 PNG, raw / 256 + 1), the official Cityscapes SGM disparity with its camera files, or SYNTHIA's
 * simulator depth.
 */
export const DepthSource = z.enum(['stereo', 'mono', 'sgm', 'simulator']);
export type DepthSource = z.infer<typeof DepthSource>;
/** How the UI names each depth source. */
export const DEPTH_SOURCE_NAMES: Record<DepthSource, string> = {
  stereo: 'stereo depth, .mat',
  mono: 'monocular disparity',
  sgm: 'SGM disparity and camera',
  simulator: 'simulator depth',
};
/** What `corda import --depth` accepts: a source, or none to import without depth. */
export const DepthChoice = z.enum([...DepthSource.options, 'none']);
export type DepthChoice = z.infer<typeof DepthChoice>;
export const Split = z.enum(['train', 'val', 'test']);
export type Split = z.infer<typeof Split>;
/**
 * The target split adaptation rounds learn from (its images and their corrections). The region queue and the
 * budget meter cover this split only; corrections on other splits are kept and exported but not learnt.
 */
export const TRAINING_SPLIT = 'train' satisfies Split;

const Id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Empty = z.object({}).strict();

export const SplitCounts = z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() });
export type SplitCounts = z.infer<typeof SplitCounts>;

export const ImportProblem = z.object({ file: z.string(), error: z.string() });
export type ImportProblem = z.infer<typeof ImportProblem>;

export const Dataset = z.object({
  id: Id,
  name: z.string(),
  kind: DatasetKind,
  role: DatasetRole,
  root: z.string(),
  counts: SplitCounts,
  withLabels: z.number().int(),
  withDepth: z.number().int(),
  /** The depth source the import took; null when the dataset has none. */
  depthSource: DepthSource.nullable(),
  cities: z.array(z.string()),
  problems: z.number().int(),
  importedAt: z.string(),
});
export type Dataset = z.infer<typeof Dataset>;

export const ImportResult = z.object({
  datasetId: Id,
  kind: DatasetKind,
  role: DatasetRole,
  counts: SplitCounts,
  withLabels: z.number().int(),
  withDepth: z.number().int(),
  depthSource: DepthSource.nullable(),
  problems: z.array(ImportProblem),
});
export type ImportResult = z.infer<typeof ImportResult>;

export const ImageSummary = z.object({
  id: Id,
  datasetId: Id,
  split: Split,
  city: z.string(),
  name: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  hasLabels: z.boolean(),
  hasDepth: z.boolean(),
  /** Pixels a person has corrected (0 when none). */
  correctedPixels: z.number().int(),
  /** The per-image difficulty score of the round the listing was sorted by (or the dataset's latest round), if any. */
  difficulty: z.number().nullable(),
});
export type ImageSummary = z.infer<typeof ImageSummary>;

export const ImageDetail = ImageSummary.extend({
  rgbPath: z.string(),
  labelPath: z.string().nullable(),
  depthPath: z.string().nullable(),
});
export type ImageDetail = z.infer<typeof ImageDetail>;

/** What an image URL can point at; served by id through the custom protocol or the web server. */
export const ImageVariant = z.enum(['rgb', 'thumb', 'label', 'depth']);
export type ImageVariant = z.infer<typeof ImageVariant>;

/** Per-image layers a round stores (CorDA engine), rendered for display. */
export const RoundLayer = z.enum(['prediction', 'confidence', 'difficulty', 'depth_src', 'depth_tgt']);
export type RoundLayer = z.infer<typeof RoundLayer>;

/**
 * Raw buffers the label editor works on, always at the image's own resolution, row-major, no header:
 * a round's `prediction` and `second` choice (one trainId byte per pixel, 255 = ignore) and `superpixels`
 * (uint16 little-endian region ids); an image's correction `labels` (trainIds) and `human` (1 where a person
 * set the label, 0 where it is the model's).
 */
export const RoundRaw = z.enum(['prediction', 'second', 'superpixels']);
export type RoundRaw = z.infer<typeof RoundRaw>;
export const CorrectionRaw = z.enum(['labels', 'human']);
export type CorrectionRaw = z.infer<typeof CorrectionRaw>;

export type AssetRequest =
  | { imageId: number; variant: ImageVariant }
  | { imageId: number; roundId: number; layer: RoundLayer }
  | { imageId: number; roundId: number; raw: RoundRaw }
  | { imageId: number; correction: CorrectionRaw };

/**
 * The one URL path grammar for image assets, shared by the Electron protocol and the web server:
 * `image/<id>/<variant>`, `image/<id>/round/<roundId>/<layer>`, `image/<id>/round/<roundId>/raw/<buffer>`
 * or `image/<id>/correction/<buffer>`. Anything else is null.
 */
export function parseAssetPath(path: string): AssetRequest | null {
  const plain = path.match(/^image\/(\d{1,15})\/([a-z_]+)$/);
  if (plain) {
    const variant = ImageVariant.safeParse(plain[2]);
    return variant.success ? { imageId: Number(plain[1]), variant: variant.data } : null;
  }
  const layered = path.match(/^image\/(\d{1,15})\/round\/(\d{1,15})\/([a-z_]+)$/);
  if (layered) {
    const layer = RoundLayer.safeParse(layered[3]);
    return layer.success ? { imageId: Number(layered[1]), roundId: Number(layered[2]), layer: layer.data } : null;
  }
  const roundRaw = path.match(/^image\/(\d{1,15})\/round\/(\d{1,15})\/raw\/([a-z_]+)$/);
  if (roundRaw) {
    const raw = RoundRaw.safeParse(roundRaw[3]);
    return raw.success ? { imageId: Number(roundRaw[1]), roundId: Number(roundRaw[2]), raw: raw.data } : null;
  }
  const corrected = path.match(/^image\/(\d{1,15})\/correction\/([a-z_]+)$/);
  if (corrected) {
    const correction = CorrectionRaw.safeParse(corrected[2]);
    return correction.success ? { imageId: Number(corrected[1]), correction: correction.data } : null;
  }
  return null;
}

export function assetPath(request: AssetRequest): string {
  if ('variant' in request) return `image/${request.imageId}/${request.variant}`;
  if ('layer' in request) return `image/${request.imageId}/round/${request.roundId}/${request.layer}`;
  if ('raw' in request) return `image/${request.imageId}/round/${request.roundId}/raw/${request.raw}`;
  return `image/${request.imageId}/correction/${request.correction}`;
}

export const AppInfo = z.object({
  version: z.string(),
  projectDir: z.string(),
  projectName: z.string(),
  schemaVersion: z.number().int(),
  transport: z.enum(['electron', 'web']),
  canPickFolder: z.boolean(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const JobRef = z.object({ jobId: z.string() });
export type JobRef = z.infer<typeof JobRef>;

export const ImageFilter = z
  .object({
    datasetId: Id,
    split: Split.optional(),
    city: z.string().min(1).max(200).optional(),
    hasLabels: z.boolean().optional(),
    /** true: only images with corrected pixels; false: only images without. */
    corrected: z.boolean().optional(),
    /** `difficulty`: hardest first, by `roundId` or else the dataset's latest finished round. */
    sort: z.enum(['name', 'difficulty']).optional(),
    roundId: Id.optional(),
  })
  .strict();
export type ImageFilter = z.infer<typeof ImageFilter>;

/** The adaptation methods, spelt here once (a frozen SQL migration keeps its own CHECK). */
export const METHODS = ['source-only', 'dacs', 'corda'] as const;
export const Method = z.enum(METHODS);
export type Method = z.infer<typeof Method>;
/**
 * What each method trains, so that code asks for a trait instead of comparing names. `target`: the EMA teacher's
 * pseudo-labels on ClassMix images of the target (and the person's corrections as trusted labels); `depth`: the
 * depth branch with its source and target depth heads, the source BerHu loss, the depth-discrepancy weights and
 * the mixed depth loss (needs depth for every training image).
 */
export const METHOD_TRAITS: Record<Method, { target: boolean; depth: boolean }> = {
  'source-only': { target: false, depth: false },
  dacs: { target: true, depth: false },
  corda: { target: true, depth: true },
};
export const PRESET_NAMES = ['tiny', 'small', 'paper'] as const;
export const PresetName = z.enum(PRESET_NAMES);
export type PresetName = z.infer<typeof PresetName>;
/** `paper`: the reference network's GTA form (ASPP initial semantic head) or its SYNTHIA form (1x1). */
export const PAPER_VARIANTS = ['gta', 'synthia'] as const;
export const PaperVariant = z.enum(PAPER_VARIANTS);
export type PaperVariant = z.infer<typeof PaperVariant>;
/** The training backends, in the automatic order (the first that loads). */
export const BACKEND_NAMES = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export const BackendName = z.enum(BACKEND_NAMES);
export type BackendName = z.infer<typeof BackendName>;
/** A round's iterations when the request names none (the forms start from these). */
export const DEFAULT_ITERS: Record<PresetName, number> = { tiny: 1000, small: 2000, paper: 250_000 };
/** What a round request means when it leaves these out: the engine, the CLI and the forms start from them. */
export const ROUND_DEFAULTS = { method: 'corda', preset: 'tiny', seed: 1, useCorrections: true } as const satisfies {
  method: Method;
  preset: PresetName;
  seed: number;
  useCorrections: boolean;
};

/**
 * One point of a round's learning curve: the student scored on the target's val split (ground truth) at an
 * iteration, beside that iteration's loss terms. valMIoU is a fraction (null when no class could be scored).
 */
export const CurvePoint = z.object({
  iteration: z.number().int().min(0),
  valMIoU: z.number().min(0).max(1).nullable(),
  losses: z.record(z.string(), z.number()),
});
export type CurvePoint = z.infer<typeof CurvePoint>;

export const RoundSummary = z.object({
  id: Id,
  parentId: Id.nullable(),
  sourceDatasetId: Id,
  targetDatasetId: Id,
  method: Method,
  preset: z.string(),
  status: z.enum(['running', 'predicting', 'done', 'failed', 'cancelled', 'interrupted']),
  iteration: z.number().int(),
  iters: z.number().int(),
  backend: z.string().nullable(),
  mIoU: z.number().nullable(),
  valMIoU: z.number().nullable(),
  msPerStep: z.number().nullable(),
  /** Target-set IoU per class name (fractions), from the round's evaluation; null until evaluated. */
  perClass: z.record(z.string(), z.number().nullable()).nullable(),
  mIoU16: z.number().nullable(),
  mIoU13: z.number().nullable(),
  seed: z.number().int().nullable(),
  useCorrections: z.boolean(),
  /** Share of the target training split's pixels that were human-corrected when the round started, in [0, 1]. */
  correctedShare: z.number().nullable(),
  /** The PyTorch checkpoint the round started from (--init), or that it holds (import-model: imported); else null. */
  startedFrom: z.object({ name: z.string(), sha256: z.string(), imported: z.boolean() }).nullable(),
  /** Val mIoU against iterations, scored while the round trained (empty: val has no labels, or scoring was off). */
  curve: z.array(CurvePoint),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RoundSummary = z.infer<typeof RoundSummary>;

/** A whole number of iterations (a round's length, an interval) with room for the paper's 250,000. */
const Iterations = z.number().int().max(10_000_000);
/** An image side in pixels, at most MAX_IMAGE_PIXELS' 4096. */
const Side = z.number().int().min(8).max(4096);

/**
 * A new round. Left out, a setting takes ROUND_DEFAULTS or the preset's recipe (core/adapt/config.ts); every
 * client (the Rounds form, the web client, `corda adapt`) starts rounds with this request.
 */
export const StartRoundInput = z
  .object({
    sourceDatasetId: Id,
    targetDatasetId: Id,
    method: Method.default(ROUND_DEFAULTS.method),
    preset: PresetName.default(ROUND_DEFAULTS.preset),
    iters: Iterations.min(1).optional(),
    seed: z.number().int().min(0).max(2 ** 31).optional(),
    parentRoundId: Id.optional(),
    backend: BackendName.optional(),
    /** Human-corrected target pixels are trusted labels in the round (default true). */
    useCorrections: z.boolean().optional(),
    /** Start from a PyTorch checkpoint file (torch.save) of the preset's network instead of a parent round. */
    init: z
      .object({ file: z.string().min(1).max(4096), from: z.enum(['model', 'ema_model']).default('model') })
      .strict()
      .optional(),
    /** `paper`: the reference network's GTA or SYNTHIA form. */
    variant: PaperVariant.optional(),
    /** The training crop (multiples of 8); default: the preset's. */
    crop: z.object({ width: Side, height: Side }).strict().optional(),
    /** Crops per domain and step. */
    batchSize: z.number().int().min(1).max(1024).optional(),
    /** Iterations between checkpoints. */
    checkpointEvery: Iterations.min(1).optional(),
    /** Iterations between scorings of the target's val split; 0 = off; default: a tenth of the round. */
    evalEvery: Iterations.min(0).optional(),
    /** One width both domains are resized to before cropping (quick runs on small images). */
    workingWidth: z.number().int().min(16).max(16_384).optional(),
    /** A tfjs LayersModel folder (full path) whose weights start the `small` encoder. */
    pretrained: z.string().min(1).max(4096).optional(),
    /** Any other numeric, boolean or text setting of the round's recipe, by name (experiments; checked by core). */
    recipe: z.record(z.string().min(1).max(100), z.union([z.number(), z.boolean(), z.string().max(4096)])).optional(),
  })
  .strict();
export type StartRoundInput = z.infer<typeof StartRoundInput>;

/** Train ids 0..18 or 255 (ignore): the only values a label map may hold. */
export const ClassId = z.union([z.number().int().min(0).max(18), z.literal(255)]);
export const StrokeTool = z.enum(['brush', 'eraser', 'ignore', 'fill', 'polygon', 'lasso', 'superpixel', 'second-choice']);
export type StrokeTool = z.infer<typeof StrokeTool>;

/**
 * Where an image's correction stands. `version` is the depth of the undo line (strokes applied); `revision`
 * counts every change (stroke, undo, redo) and guards against stale edits: an edit made on another revision
 * is refused, even when an undo-and-redraw elsewhere brought `version` back to the same number.
 */
export const CorrectionState = z.object({
  imageId: Id,
  width: z.number().int(),
  height: z.number().int(),
  /** 0 when the image was never edited. */
  version: z.number().int().min(0),
  revision: z.number().int().min(0),
  /** The round whose prediction the correction started from (null: started from "ignore"). */
  baseRoundId: Id.nullable(),
  humanPixels: z.number().int(),
  canUndo: z.boolean(),
  canRedo: z.boolean(),
  strokes: z.number().int(),
  secondsSpent: z.number(),
  updatedAt: z.string().nullable(),
});
export type CorrectionState = z.infer<typeof CorrectionState>;

export const ModelFormat = z.enum(['tfjs', 'onnx']);
export type ModelFormat = z.infer<typeof ModelFormat>;
/** corrected: the person's correction (model labels where untouched; images never edited are skipped);
 *  predicted: a round's prediction; best: the correction where one exists, else the prediction. */
export const LabelSource = z.enum(['corrected', 'predicted', 'best']);
export type LabelSource = z.infer<typeof LabelSource>;
export const LabelFormat = z.enum(['labelIds', 'trainIds', 'color']);
export type LabelFormat = z.infer<typeof LabelFormat>;

/**
 * The largest image the workbench reads (width x height): 4096 x 4096, eight times a Cityscapes frame. Every
 * decoder applies it before decoding (sharp's limitInputPixels, the PNG header for label maps), so a small file
 * declaring a huge size is refused at once instead of holding the server for seconds.
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;
/**
 * The longest stroke delta (base64 characters). Every stroke of an image within MAX_IMAGE_PIXELS fits: the
 * compact encoding (shared/labelDelta.ts) needs at most about 1.6 bytes per pixel, 36 MB of base64 at the limit.
 */
export const MAX_DELTA_CHARS = 64 * 1024 * 1024;
/** The largest WebSocket message web mode accepts: the longest delta plus room for the request's other fields. */
export const MAX_WS_MESSAGE_BYTES = MAX_DELTA_CHARS + 64 * 1024;

/** A stroke's change, encoded by shared/labelDelta.ts, as base64. */
const DeltaText = z.string().min(1).max(MAX_DELTA_CHARS);

export const Region = z.object({
  id: Id,
  roundId: Id,
  imageId: Id,
  /** Bounding box in the image's own pixels. */
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  /** The superpixel's id in the round's `superpixels` buffer. */
  superpixel: z.number().int(),
  pixels: z.number().int(),
  score: z.number(),
  /** covered: left out of the queue because a person had already corrected at least half its pixels. */
  state: z.enum(['open', 'done', 'skipped', 'covered']),
  /** Seconds a person spent on it (summed over visits ended with done or skip); null until then. */
  seconds: z.number().nullable(),
});
export type Region = z.infer<typeof Region>;

/** Where a person stands with one round's region queue (regions of training-split images still on disk). */
export const RegionStats = z.object({
  /** The round counted; null when the dataset has no finished round. */
  roundId: Id.nullable(),
  open: z.number().int(),
  done: z.number().int(),
  skipped: z.number().int(),
  covered: z.number().int(),
  /** Regions with time recorded, and the median of their seconds (null when none is). */
  timed: z.number().int(),
  medianSeconds: z.number().nullable(),
});
export type RegionStats = z.infer<typeof RegionStats>;

/** The corrected share of a target dataset's training split (TRAINING_SPLIT), as RIPU counts its budgets. */
export const Budget = z.object({
  datasetId: Id,
  /** Human-set pixels on images of the training split. */
  correctedPixels: z.number().int(),
  /** All pixels of the training split's images. */
  totalPixels: z.number().int(),
  /** Images of the training split with human-set pixels. */
  correctedImages: z.number().int(),
  /** Images of the training split. */
  images: z.number().int(),
  /** correctedPixels / totalPixels, in [0, 1]. */
  share: z.number(),
  /** Human-set pixels on images of other splits: kept and exported, not learnt, not in the share. */
  otherSplitPixels: z.number().int(),
});
export type Budget = z.infer<typeof Budget>;

function method<I extends z.ZodType, O extends z.ZodType>(input: I, output: O) {
  return { input, output };
}

/** Every request: name → input and output schema. */
export const methods = {
  getAppInfo: method(Empty, AppInfo),
  listDatasets: method(Empty, z.array(Dataset)),
  importDataset: method(
    z.object({ folder: z.string().min(1).max(4096), role: DatasetRole.optional(), depth: DepthChoice.optional() }).strict(),
    ImportResult,
  ),
  listImportProblems: method(z.object({ datasetId: Id }).strict(), z.array(ImportProblem)),
  listImages: method(ImageFilter, z.array(ImageSummary)),
  getImage: method(z.object({ imageId: Id }).strict(), ImageDetail),
  generateThumbnails: method(z.object({ datasetId: Id }).strict(), JobRef),
  cancelJob: method(JobRef.strict(), z.object({ cancelled: z.boolean() })),
  pickFolder: method(Empty, z.object({ path: z.string().nullable() })),
  listRounds: method(Empty, z.array(RoundSummary)),
  startRound: method(StartRoundInput, JobRef),
  resumeRound: method(z.object({ roundId: Id, backend: BackendName.optional() }).strict(), JobRef),
  getCorrection: method(z.object({ imageId: Id }).strict(), CorrectionState),
  applyStroke: method(
    z
      .object({
        imageId: Id,
        /** The revision the stroke was drawn on; a different stored revision refuses the stroke. */
        baseRevision: z.number().int().min(0),
        /** On the first stroke: the round whose prediction the editor showed (null: none). */
        baseRoundId: Id.nullable(),
        tool: StrokeTool,
        classId: ClassId.nullable(),
        delta: DeltaText,
        /** Milliseconds the person spent on this stroke. */
        ms: z.number().min(0).max(86_400_000),
      })
      .strict(),
    CorrectionState,
  ),
  undoStroke: method(
    z.object({ imageId: Id, baseRevision: z.number().int().min(0) }).strict(),
    z.object({ state: CorrectionState, delta: z.string() }),
  ),
  redoStroke: method(
    z.object({ imageId: Id, baseRevision: z.number().int().min(0) }).strict(),
    z.object({ state: CorrectionState, delta: z.string() }),
  ),
  getBudget: method(z.object({ datasetId: Id }).strict(), Budget),
  nextRegion: method(
    z.object({ datasetId: Id, roundId: Id.optional(), afterRegionId: Id.optional() }).strict(),
    Region.nullable(),
  ),
  setRegionState: method(
    z
      .object({
        regionId: Id,
        state: z.enum(['open', 'done', 'skipped']),
        /** Seconds since the editor jumped to the region, added to its time (zod 4 numbers are finite). */
        seconds: z.number().min(0).max(3600).optional(),
      })
      .strict(),
    Region,
  ),
  /** Counts by state and time per region of a round: the one asked for, else the dataset's latest finished one. */
  getRegionStats: method(z.object({ datasetId: Id, roundId: Id.optional() }).strict(), RegionStats),
  /** Writes the round's model to a new folder `outDir` (must not exist or be empty); progress as jobProgress (kind export). */
  exportModel: method(
    z.object({ roundId: Id, format: ModelFormat, outDir: z.string().min(1).max(4096) }).strict(),
    JobRef,
  ),
  /** Writes a dataset's labels in the Cityscapes layout to `outDir`; progress as jobProgress (kind export). */
  exportLabels: method(
    z
      .object({
        datasetId: Id,
        which: LabelSource,
        format: LabelFormat.default('labelIds'),
        /** For predicted / best: the round (default: the dataset's latest finished round). */
        roundId: Id.optional(),
        outDir: z.string().min(1).max(4096),
      })
      .strict(),
    JobRef,
  ),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export { METHOD_NAMES };

// Compile-time check that channels.ts lists exactly the contract's methods, no more, no fewer.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const methodNamesMatch: Same<(typeof METHOD_NAMES)[number], MethodName> = true;
void methodNamesMatch;
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.infer<Methods[M]['output']>;

export const JobKind = z.enum(['import', 'thumbnails', 'round', 'export']);
export const JobProgress = z.object({
  jobId: z.string(),
  kind: JobKind,
  phase: z.string(),
  done: z.number(),
  total: z.number(),
  ratePerSecond: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  message: z.string().optional(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobFinished = z.object({
  jobId: z.string(),
  kind: JobKind,
  status: z.enum(['done', 'failed', 'cancelled']),
  error: z.string().optional(),
});
export type JobFinished = z.infer<typeof JobFinished>;

export const RoundProgressEvent = z.object({
  jobId: z.string(),
  roundId: Id.nullable(),
  phase: z.enum(['training', 'predicting']),
  iteration: z.number().int(),
  iters: z.number().int(),
  losses: z.record(z.string(), z.number()).nullable(),
  imagesPerSecond: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  done: z.number().int().nullable(),
  total: z.number().int().nullable(),
  /** The round's learning curve so far (every point, so a window that joins late draws it whole). */
  curve: z.array(CurvePoint),
});
export type RoundProgressEvent = z.infer<typeof RoundProgressEvent>;

/** An informational line of a round job: the backend it started (`backend`), or the round's own notes (`round`). */
export const RoundLogEvent = z.object({ jobId: z.string(), source: z.enum(['backend', 'round']), line: z.string() });
export type RoundLogEvent = z.infer<typeof RoundLogEvent>;

const Miou = z.number().nullable();
const RoundScores = z.object({ mIoU: Miou, mIoU16: Miou, mIoU13: Miou, perClass: z.record(z.string(), z.number().nullable()), evaluatedImages: z.number().int() });

/** A round job that ended well, before its jobFinished: what the round stored, and what loaded from --init. */
export const RoundFinishedEvent = z.object({
  jobId: z.string(),
  roundId: Id,
  backend: BackendName,
  /** trainSeconds leaves out the val scorings, which take curveSeconds. */
  timings: z.object({ threads: z.number().int(), trainSeconds: z.number(), predictSeconds: z.number(), msPerStep: z.number(), curveSeconds: z.number() }),
  metrics: RoundScores.extend({ val: RoundScores.nullable() }),
  curve: z.array(CurvePoint),
  /** The checkpoint file the round started from, with what matched the network; null without one. */
  init: z
    .object({
      file: z.string(),
      sha256: z.string(),
      from: z.enum(['model', 'ema_model']),
      loaded: z.number().int(),
      missing: z.array(z.string()),
      unexpected: z.array(z.string()),
      shapeMismatches: z.array(z.object({ name: z.string(), expected: z.array(z.number()), found: z.array(z.number()) })),
    })
    .nullable(),
});
export type RoundFinishedEvent = z.infer<typeof RoundFinishedEvent>;

/** Every event: name → payload schema. */
export const events = {
  roundProgress: RoundProgressEvent,
  roundLog: RoundLogEvent,
  roundFinished: RoundFinishedEvent,
  jobProgress: JobProgress,
  jobFinished: JobFinished,
  datasetsChanged: z.object({ datasetId: Id.optional() }),
} as const;
export type Events = typeof events;
export type EventName = keyof Events;
export const EVENT_NAMES = Object.keys(events) as EventName[];
export type EventPayload<E extends EventName> = z.infer<Events[E]>;
export type EventMessage = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];

/** What the renderer programs against: one async function per method, plus event subscription. */
export type CordaApi = { [M in MethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>> } & {
  onEvent(listener: (message: EventMessage) => void): () => void;
};

export { IPC_PREFIX, IPC_EVENT_CHANNEL, IMAGE_SCHEME, ipcChannel };

/** An error with a message meant for a person (one sentence saying what to do next). */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Validates a request's input; throws a UserError that names the method and the first bad field. */
export function parseInput<M extends MethodName>(name: M, input: unknown): z.infer<Methods[M]['input']> {
  const schema = methods[name]?.input;
  if (!schema) throw new UserError(`Unknown method "${String(name)}".`);
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length ? ` at "${issue.path.join('.')}"` : '';
    throw new UserError(`Invalid input for ${name}${where}: ${issue?.message ?? 'does not match the contract'}.`);
  }
  return result.data as z.infer<Methods[M]['input']>;
}

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}
