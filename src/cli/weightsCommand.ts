// `corda weights inspect FILE`: what a PyTorch checkpoint holds, and with --preset how it fits that network.
// `corda weights list` / `corda weights fetch NAME`: the catalogue of weights the reference names, and their download.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PRESET_NAMES, UserError, type PresetName } from '../shared/api';
import { initBackend } from '../core/model/backend';
import { CordaNetwork, PRESETS } from '../core/model/network';
import { torchStateDictShapes, withSmallEncoderNames } from '../core/model/torchLayout';
import { CATALOGUE, entryUrls, fetchWeights, findEntry, weightsCacheDir } from '../core/model/weightCatalogue';
import {
  allTensors, isDict, isTensor, matchReport, readTorchCheckpointFile, stateDictOf, type MatchReport, type StateDict, type StateDictSource, type TorchCheckpoint,
} from '../core/model/torchCheckpoint';
import type { CommandHelpers } from './engineCommands';

const SOURCES: StateDictSource[] = ['model', 'ema_model'];
/** How many names of each list the text output shows (--json has them all). */
const SHOWN = 12;

/** The checkpoint's top-level entries besides the state dict, for the record (iteration, config, optimizer…). */
function otherEntries(checkpoint: TorchCheckpoint, statePath: string | null) {
  if (!isDict(checkpoint.root) || statePath === '' || statePath === null) return [];
  return [...checkpoint.root].filter(([key]) => key !== statePath).map(([key, value]) => {
    const entry: { key: string; kind: string; value?: string | number | boolean | null; tensors?: number } = { key: String(key), kind: 'value' };
    if (isTensor(value)) entry.kind = 'tensor';
    else if (isDict(value)) entry.kind = 'dict';
    else if (Array.isArray(value)) entry.kind = 'list';
    else if (value instanceof Uint8Array) entry.kind = 'bytes';
    else entry.value = typeof value === 'bigint' ? String(value) : value;
    if (entry.kind === 'dict' || entry.kind === 'list') entry.tensors = allTensors(value).size;
    return entry;
  });
}

async function presetShapes(preset: PresetName): Promise<Map<string, number[]>> {
  // A forward on a tiny input creates every parameter; the cpu backend needs nothing loaded for it.
  await initBackend('cpu');
  const network = new CordaNetwork(PRESETS[preset], 'corda', 0).build();
  try {
    return torchStateDictShapes(network);
  } finally {
    network.params.dispose();
  }
}

function printList(title: string, names: string[]) {
  if (names.length === 0) return;
  console.log(`${title} (${names.length}):`);
  for (const name of names.slice(0, SHOWN)) console.log(`  ${name}`);
  if (names.length > SHOWN) console.log(`  … and ${names.length - SHOWN} more (--json lists them all)`);
}

function listCommand(rest: string[], h: CommandHelpers) {
  const { values, positionals } = h.parse(rest, { json: { type: 'boolean' } });
  if (positionals.length > 0) throw h.usage('weights list takes no arguments: corda weights list [--json].');
  const dir = weightsCacheDir();
  const entries = CATALOGUE.map((e) => ({ ...e, urls: entryUrls(e), cached: existsSync(join(dir, e.fileName)) ? join(dir, e.fileName) : null }));
  if (values.json) {
    console.log(JSON.stringify({ cacheDir: dir, entries }));
    return;
  }
  console.log(`Weights the reference names (cache: ${dir}):`);
  for (const e of entries) {
    const hash = e.sha256 ? `sha256 ${e.sha256}` : e.sha256Prefix ? `sha256 starts ${e.sha256Prefix} (from its name; the full hash is not published)` : 'sha256 not published';
    console.log(`${e.name}  [${e.preset}${e.variant ? ` ${e.variant}` : ''}]  ${e.cached ? 'cached' : e.manual ? 'by hand' : 'fetchable'}`);
    console.log(`  ${e.description}`);
    console.log(`  use: ${e.use}`);
    console.log(`  from: ${e.urls.join(' ')}`);
    console.log(`  size: ${e.bytes === null ? 'not published' : `${e.bytes} bytes`}; ${hash}`);
  }
}

async function fetchCommand(rest: string[], h: CommandHelpers) {
  const { values, positionals } = h.parse(rest, { json: { type: 'boolean' } });
  if (positionals.length !== 1) throw h.usage(`weights fetch takes one name (see \`corda weights list\`), got ${positionals.length}.`);
  const entry = findEntry(positionals[0]!);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const tty = process.stderr.isTTY;
  let lastShown = -1;
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  try {
    const result = await fetchWeights(entry, {
      signal: controller.signal,
      onProgress: ({ done, total, resumedFrom }) => {
        const percent = total ? Math.floor((done / total) * 100) : null;
        const step = percent ?? Math.floor(done / 2 ** 24);
        if (step === lastShown || (!tty && percent !== null && percent % 10 !== 0)) return;
        lastShown = step;
        const line = `${entry.name}: ${mib(done)}${total ? ` / ${mib(total)} MiB (${percent}%)` : ' MiB'}${resumedFrom > 0 ? `, resumed at ${mib(resumedFrom)} MiB` : ''}`;
        process.stderr.write(tty ? `\r${line}` : `${line}\n`);
      },
    });
    if (tty && lastShown >= 0) process.stderr.write('\n');
    if (values.json) {
      console.log(JSON.stringify(result));
      return;
    }
    const check = result.checked === 'full' ? 'sha256 checked' : result.checked === 'prefix' ? `sha256 starts ${entry.sha256Prefix} as its name says` : 'no published sha256 to check';
    console.log(`${result.cached ? 'Already cached' : 'Fetched'}: ${result.path} (${result.bytes} bytes, ${check}). Start from it with \`corda adapt --init ${result.path} --preset ${entry.preset}\`.`);
  } finally {
    process.off('SIGINT', onSignal);
  }
}

export async function weightsCommand(args: string[], h: CommandHelpers): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listCommand(rest, h);
  if (sub === 'fetch') return fetchCommand(rest, h);
  if (sub !== 'inspect') {
    throw h.usage(sub ? `Unknown weights command "${sub}": run \`corda weights list\`, \`corda weights fetch NAME\` or \`corda weights inspect FILE\`.` : 'weights needs a command: corda weights list, corda weights fetch NAME or corda weights inspect FILE.');
  }
  const { values, positionals } = h.parse(rest, { preset: { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean' } });
  if (!positionals[0]) throw h.usage('weights inspect needs a checkpoint file: corda weights inspect FILE.');
  if (positionals.length > 1) throw h.usage(`weights inspect takes one file, got ${positionals.length}.`);
  const preset = values.preset as string | undefined;
  if (preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(preset)) throw h.usage(`--preset must be one of ${PRESET_NAMES.join(', ')}, got "${preset}".`);
  const from = (values.from ?? 'model') as StateDictSource;
  if (!SOURCES.includes(from)) throw h.usage(`--from must be model or ema_model, got "${String(values.from)}".`);

  const file = resolve(positionals[0]);
  const label = basename(file);
  const checkpoint = await readTorchCheckpointFile(file);
  let stateDict: StateDict;
  try {
    stateDict = stateDictOf(checkpoint.root, from, label);
  } catch (error) {
    // Nothing to match against a network, but a plain listing can still show what the file holds.
    if (!(error instanceof UserError) || preset !== undefined || values.from !== undefined) throw error;
    stateDict = { tensors: allTensors(checkpoint.root), path: null, strippedPrefixes: [] };
  }
  const tensors = [...stateDict.tensors].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype }));
  const byDtype: Record<string, number> = {};
  let totalValues = 0;
  for (const t of stateDict.tensors.values()) {
    totalValues += t.data.length;
    byDtype[t.dtype] = (byDtype[t.dtype] ?? 0) + t.data.length;
  }
  let match: (MatchReport & { preset: string }) | null = null;
  if (preset !== undefined) {
    const tensors = preset === 'small' ? withSmallEncoderNames(stateDict.tensors).tensors : stateDict.tensors;
    match = { preset, ...matchReport(tensors, await presetShapes(preset as PresetName)) };
  }
  const result = {
    file,
    bytes: statSync(file).size,
    format: checkpoint.format,
    from: stateDict.path === null ? null : from,
    path: stateDict.path,
    strippedPrefixes: stateDict.strippedPrefixes,
    totals: { tensors: tensors.length, values: totalValues, byDtype },
    others: otherEntries(checkpoint, stateDict.path),
    tensors,
    match,
  };
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const where = stateDict.path === null ? 'no state dict, every tensor' : stateDict.path ? `the "${stateDict.path}" state dict` : 'a bare state dict';
  const stripped = stateDict.strippedPrefixes.length ? ` (prefixes removed: ${stateDict.strippedPrefixes.join(', ')})` : '';
  const dtypes = Object.entries(byDtype).map(([d, n]) => `${n.toLocaleString('en')} ${d}`).join(', ');
  console.log(`${label}: ${checkpoint.format} format, ${(result.bytes / 2 ** 20).toFixed(1)} MiB; ${where}${stripped}: ${tensors.length} tensors, ${totalValues.toLocaleString('en')} values (${dtypes}).`);
  for (const other of result.others) {
    const detail = other.kind === 'value' ? ` = ${JSON.stringify(other.value)}` : ` (${other.kind}${other.tensors ? `, ${other.tensors} tensor${other.tensors === 1 ? '' : 's'}` : ''})`;
    console.log(`  also: ${other.key}${detail}`);
  }
  if (!match) {
    const width = tensors.reduce((w, t) => Math.max(w, t.name.length), 4);
    for (const t of tensors) console.log(`${t.name.padEnd(width)}  [${t.shape.join(', ')}]  ${t.dtype}`);
    return;
  }
  console.log(`Against the ${match.preset} network: ${match.loaded.length} loaded, ${match.missing.length} missing, ${match.unexpected.length} unexpected, ${match.shapeMismatches.length} with another shape.`);
  printList('missing (the network keeps its own initial values)', match.missing);
  printList('unexpected (the network has no place for them)', match.unexpected);
  printList('shape mismatches', match.shapeMismatches.map((m) => `${m.name}: file [${m.found.join(', ')}], network [${m.expected.join(', ')}]`));
}
