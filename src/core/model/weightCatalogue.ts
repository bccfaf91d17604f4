// The weights the reference (github.com/qinenergy/corda, built on DACS) trains from or releases, and their
// download into the user data folder: a resumable `.partial` file (HTTP Range), size and sha256 checks, and an
// atomic rename into place. Facts only from the reference: where a size or a full hash is not published the
// entry says so; PyTorch-hub style names (`name-<8 hex>.pth`) carry the first 8 hex digits of the file's sha256.
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../shared/api';
import { userDataDir } from '../userDataDir';
import { fileSha256 } from './torchInit';

export interface CatalogueEntry {
  name: string;
  description: string;
  /** The preset (and variant) the weights are for. */
  preset: 'tiny' | 'small' | 'paper';
  variant?: 'gta' | 'synthia';
  /** What a round takes from it: the whole network (`import-model`, `--init`) or an encoder init (`--init`). */
  use: string;
  urls: string[];
  /** The file name in the cache. */
  fileName: string;
  /** Bytes, where published; null = unknown. */
  bytes: number | null;
  /** The full sha256, where published. */
  sha256: string | null;
  /** The sha256's first hex digits from the file's name (PyTorch hub convention), where that is all that is known. */
  sha256Prefix: string | null;
  /** Only by hand (e.g. a Google Drive share that needs a browser): why, and what to do. */
  manual: { why: string; what: string } | null;
  /** Where the facts come from. */
  source: string;
}

const CORDA_DRIVE = 'https://drive.google.com/file/d/1yYV5O7In2sgYKA9cY8-12p9VdyWtRuFH/view?usp=sharing';

export const CATALOGUE: CatalogueEntry[] = [
  {
    name: 'deeplab-resnet101-coco',
    description: 'DeepLab-v2 ResNet-101 pretrained on MS-COCO: the init the reference (and DACS) trains from by default ("pretrained": "coco")',
    preset: 'paper',
    use: '--init (backbone and classifier init; the CorDA heads stay as initialised)',
    urls: ['http://vllab1.ucmerced.edu/~whung/adv-semi-seg/resnet101COCO-41f33a49.pth'],
    fileName: 'resnet101COCO-41f33a49.pth',
    bytes: null,
    sha256: null,
    sha256Prefix: '41f33a49',
    manual: null,
    source: 'qinenergy/corda trainUDA_gta.py (restore_from for pretrained == "coco")',
  },
  {
    name: 'deeplab-resnet101-imagenet',
    description: 'DeepLab ResNet-101 ImageNet init (keys under "Scale."): the reference\'s alternative ("pretrained": "imagenet")',
    preset: 'paper',
    use: '--init (backbone init)',
    urls: ['http://vllab.ucmerced.edu/ytsai/CVPR18/DeepLab_resnet_pretrained_init-f81d91e8.pth'],
    fileName: 'DeepLab_resnet_pretrained_init-f81d91e8.pth',
    bytes: null,
    sha256: null,
    sha256Prefix: 'f81d91e8',
    manual: null,
    source: 'qinenergy/corda trainUDA_gta.py (restore_from for pretrained == "imagenet")',
  },
  {
    name: 'corda-gta5',
    description: 'The authors\' CorDA model GTA5 → Cityscapes (57.7 mIoU, 19 classes, per their README); checkpoint/gta/checkpoint-iter250000.pth',
    preset: 'paper',
    variant: 'gta',
    use: 'import-model (a finished round) or --init, from model or ema_model',
    urls: [CORDA_DRIVE],
    fileName: 'corda-gta-checkpoint-iter250000.pth',
    bytes: null,
    sha256: null,
    sha256Prefix: null,
    manual: { why: 'it is a Google Drive share that needs a browser', what: `download it from ${CORDA_DRIVE} and take gta/checkpoint-iter250000.pth from it` },
    source: 'qinenergy/corda README ("Pre-trained models are provided") and shells/eval_gta2city.sh',
  },
  {
    name: 'corda-synthia',
    description: 'The authors\' CorDA model SYNTHIA → Cityscapes (56.3 mIoU, 16 classes, per their README); checkpoint/synthia/checkpoint-iter250000.pth',
    preset: 'paper',
    variant: 'synthia',
    use: 'import-model (a finished round) or --init, from model or ema_model',
    urls: [CORDA_DRIVE],
    fileName: 'corda-synthia-checkpoint-iter250000.pth',
    bytes: null,
    sha256: null,
    sha256Prefix: null,
    manual: { why: 'it is a Google Drive share that needs a browser', what: `download it from ${CORDA_DRIVE} and take synthia/checkpoint-iter250000.pth from it` },
    source: 'qinenergy/corda README and shells/eval_syn2city.sh',
  },
  {
    name: 'mobilenet-v2-imagenet',
    description: 'torchvision\'s ImageNet MobileNetV2 (mobilenet_v2-b0353104.pth), an encoder init for the small preset',
    preset: 'small',
    use: '--init (encoder init; `corda weights inspect FILE --preset small` shows what fits)',
    urls: ['https://download.pytorch.org/models/mobilenet_v2-b0353104.pth'],
    fileName: 'mobilenet_v2-b0353104.pth',
    bytes: null,
    sha256: null,
    sha256Prefix: 'b0353104',
    manual: null,
    source: 'torchvision model zoo (the file name carries its sha256 prefix)',
  },
];

/** Where fetched weights are kept: `weights/` in the user data folder (CORDA_HOME overrides that folder). */
export function weightsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(userDataDir(env), 'weights');
}

/** The URLs to try: CORDA_WEIGHTS_BASE_URL (a local mirror) replaces each entry's host and path by its file name. */
export function entryUrls(entry: CatalogueEntry, env: NodeJS.ProcessEnv = process.env): string[] {
  const base = env.CORDA_WEIGHTS_BASE_URL;
  return base ? [`${base.replace(/\/$/, '')}/${entry.fileName}`] : entry.urls;
}

export function findEntry(name: string): CatalogueEntry {
  const entry = CATALOGUE.find((e) => e.name === name);
  if (!entry) throw new UserError(`There is no "${name}" in the weight catalogue; \`corda weights list\` shows ${CATALOGUE.map((e) => e.name).join(', ')}.`);
  return entry;
}

/** One sentence: what to download by hand, from where, and how to pass it. */
export function byHandSentence(entry: CatalogueEntry, reason: string): string {
  const how = entry.use.startsWith('import-model')
    ? `\`corda import-model FILE --project DIR --preset ${entry.preset}\` or \`corda adapt --init FILE --preset ${entry.preset}\``
    : `\`corda adapt --init FILE --preset ${entry.preset}\``;
  const what = entry.manual?.what ?? `download ${entry.urls[0]} by hand`;
  return `${reason}: ${what}, then pass it with ${how}.`;
}

/** What a hash check knows: the full sha256, its prefix from the file name, or nothing. */
function hashMatches(entry: CatalogueEntry, sha256: string): boolean {
  if (entry.sha256) return sha256 === entry.sha256;
  if (entry.sha256Prefix) return sha256.startsWith(entry.sha256Prefix);
  return true;
}

export interface FetchProgress {
  done: number;
  total: number | null;
  resumedFrom: number;
}

export interface FetchResult {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  cached: boolean;
  /** How the hash was checked: 'full', 'prefix' (from the file name) or 'none' (nothing published). */
  checked: 'full' | 'prefix' | 'none';
  url: string | null;
}

const checkedBy = (entry: CatalogueEntry): FetchResult['checked'] => (entry.sha256 ? 'full' : entry.sha256Prefix ? 'prefix' : 'none');

function networkReason(url: string, error: unknown): string {
  // fetch wraps the socket's error (and, for several addresses, an AggregateError of them) in its cause.
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code ?? (error as NodeJS.ErrnoException).code;
  return `${new URL(url).host} cannot be reached${code ? ` (${code})` : ''}`;
}

/**
 * Downloads `entry` into `dir` (resuming `<file>.partial`), checks size and sha256 and renames it into place.
 * A file already there is checked and returned as cached.
 */
export async function fetchWeights(
  entry: CatalogueEntry,
  options: { dir?: string; env?: NodeJS.ProcessEnv; onProgress?: (p: FetchProgress) => void; signal?: AbortSignal } = {},
): Promise<FetchResult> {
  const env = options.env ?? process.env;
  const dir = options.dir ?? weightsCacheDir(env);
  const target = join(dir, entry.fileName);
  const partial = `${target}.partial`;
  if (existsSync(target)) {
    const sha256 = await fileSha256(target);
    if (hashMatches(entry, sha256)) return { name: entry.name, path: target, bytes: statSync(target).size, sha256, cached: true, checked: checkedBy(entry), url: null };
    rmSync(target, { force: true });
  }
  if (entry.manual && !env.CORDA_WEIGHTS_BASE_URL) throw new UserError(byHandSentence(entry, `"${entry.name}" cannot be fetched here, ${entry.manual.why}`));
  mkdirSync(dir, { recursive: true });
  const url = entryUrls(entry, env)[0]!;
  let have = existsSync(partial) ? statSync(partial).size : 0;
  if (entry.bytes !== null && have > entry.bytes) {
    rmSync(partial, { force: true });
    have = 0;
  }
  let response: Response;
  try {
    response = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: options.signal ?? null, redirect: 'follow' });
  } catch (error) {
    if (options.signal?.aborted) throw new UserError(`Cancelled; \`corda weights fetch ${entry.name}\` again resumes from the ${have} bytes kept.`);
    throw new UserError(byHandSentence(entry, `"${entry.name}" cannot be fetched, ${networkReason(url, error)}`));
  }
  if (response.status === 416 && have > 0) {
    // The partial file already holds everything the server has: check it as it is.
    await response.body?.cancel();
  } else if (!response.ok) {
    await response.body?.cancel();
    throw new UserError(byHandSentence(entry, `"${entry.name}" cannot be fetched, ${url} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`));
  } else {
    const resumed = response.status === 206 && have > 0;
    if (!resumed) have = 0;
    const length = Number(response.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? have + length : entry.bytes;
    const out = createWriteStream(partial, { flags: resumed ? 'a' : 'w' });
    const resumedFrom = have;
    let done = have;
    try {
      const reader = response.body!.getReader();
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) break;
        if (!out.write(value)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        done += value.length;
        options.onProgress?.({ done, total, resumedFrom });
      }
    } catch (error) {
      await new Promise((resolve) => out.end(resolve));
      if (options.signal?.aborted) throw new UserError(`Cancelled; \`corda weights fetch ${entry.name}\` again resumes from the ${done} bytes kept.`);
      throw new UserError(`The download of "${entry.name}" broke off after ${done} bytes (${(error as Error).message}); run \`corda weights fetch ${entry.name}\` again to resume it.`);
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    if (total !== null && done < total) {
      throw new UserError(`The download of "${entry.name}" stopped at ${done} of ${total} bytes; run \`corda weights fetch ${entry.name}\` again to resume it.`);
    }
  }
  const bytes = statSync(partial).size;
  if (entry.bytes !== null && bytes !== entry.bytes) {
    rmSync(partial, { force: true });
    throw new UserError(`The download of "${entry.name}" has ${bytes} bytes instead of ${entry.bytes}, so it was removed; fetch it again, or download ${entry.urls[0]} by hand and pass it with --init.`);
  }
  const sha256 = await fileSha256(partial);
  if (!hashMatches(entry, sha256)) {
    rmSync(partial, { force: true });
    const expected = entry.sha256 ?? `${entry.sha256Prefix}…`;
    throw new UserError(`The download of "${entry.name}" has sha256 ${sha256.slice(0, 16)}… where ${expected} was expected, so it was removed; the server sent another file (fetch it again, or download ${entry.urls[0]} by hand and pass it with --init).`);
  }
  renameSync(partial, target);
  return { name: entry.name, path: target, bytes, sha256, cached: false, checked: checkedBy(entry), url };
}
