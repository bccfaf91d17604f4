// The one API contract. Every request and event the renderer, the CLI or the web client can use is declared
// here with zod schemas; core/service.ts implements it, main/ and server/ carry it, preload/ exposes it.
import { z } from 'zod';
import { IMAGE_SCHEME, IPC_EVENT_CHANNEL, IPC_PREFIX, METHOD_NAMES, ipcChannel } from './channels';

export const DatasetKind = z.enum(['cityscapes', 'gta5', 'synthia']);
export type DatasetKind = z.infer<typeof DatasetKind>;
export const DatasetRole = z.enum(['source', 'target']);
export type DatasetRole = z.infer<typeof DatasetRole>;
export const Split = z.enum(['train', 'val', 'test']);
export type Split = z.infer<typeof Split>;

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
});
export type ImageSummary = z.infer<typeof ImageSummary>;

export const ImageDetail = ImageSummary.extend({
  rgbPath: z.string(),
  labelPath: z.string().nullable(),
  depthPath: z.string().nullable(),
});
export type ImageDetail = z.infer<typeof ImageDetail>;

/** What an image URL can point at; served by id through the custom protocol or the web server. */
export const ImageVariant = z.enum(['rgb', 'thumb', 'label']);
export type ImageVariant = z.infer<typeof ImageVariant>;

/** Per-image layers a round stores (CorDA engine), rendered for display. */
export const RoundLayer = z.enum(['prediction', 'confidence', 'difficulty', 'depth_src', 'depth_tgt']);
export type RoundLayer = z.infer<typeof RoundLayer>;

export type AssetRequest = { imageId: number; variant: ImageVariant } | { imageId: number; roundId: number; layer: RoundLayer };

/**
 * The one URL path grammar for image assets, shared by the Electron protocol and the web server:
 * `image/<id>/<variant>` or `image/<id>/round/<roundId>/<layer>`. Anything else is null.
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
  return null;
}

export function assetPath(request: AssetRequest): string {
  return 'variant' in request ? `image/${request.imageId}/${request.variant}` : `image/${request.imageId}/round/${request.roundId}/${request.layer}`;
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
  })
  .strict();
export type ImageFilter = z.infer<typeof ImageFilter>;

export const Method = z.enum(['source-only', 'dacs', 'corda']);
export const PresetName = z.enum(['tiny', 'small', 'paper']);
export const BackendName = z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);

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
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RoundSummary = z.infer<typeof RoundSummary>;

export const StartRoundInput = z
  .object({
    sourceDatasetId: Id,
    targetDatasetId: Id,
    method: Method.default('corda'),
    preset: PresetName.default('tiny'),
    iters: z.number().int().min(1).max(10_000_000).optional(),
    seed: z.number().int().min(0).max(2 ** 31).optional(),
    parentRoundId: Id.optional(),
    backend: BackendName.optional(),
  })
  .strict();

function method<I extends z.ZodType, O extends z.ZodType>(input: I, output: O) {
  return { input, output };
}

/** Every request: name → input and output schema. */
export const methods = {
  getAppInfo: method(Empty, AppInfo),
  listDatasets: method(Empty, z.array(Dataset)),
  importDataset: method(
    z.object({ folder: z.string().min(1).max(4096), role: DatasetRole.optional() }).strict(),
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
  resumeRound: method(z.object({ roundId: Id }).strict(), JobRef),
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

export const JobKind = z.enum(['import', 'thumbnails', 'round']);
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
});
export type RoundProgressEvent = z.infer<typeof RoundProgressEvent>;

/** Every event: name → payload schema. */
export const events = {
  roundProgress: RoundProgressEvent,
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
