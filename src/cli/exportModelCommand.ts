// `corda export-model`: a finished round's model as a TensorFlow.js graph model or an ONNX file, with its model card.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelFormat } from '../shared/api';
import { createService } from '../core/service';
import type { CommandHelpers } from './engineCommands';
import { waitForJob } from './waitForJob';

export async function exportModelCommand(args: string[], h: CommandHelpers): Promise<void> {
  const { values } = h.parse(args, { project: { type: 'string' }, round: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
  const projectDir = h.requireProject(values.project as string | undefined);
  const roundId = Number(values.round);
  if (typeof values.round !== 'string' || !Number.isInteger(roundId) || roundId < 1) {
    throw h.usage(`--round needs a round id (a positive whole number), got "${String(values.round ?? '')}".`);
  }
  const format = ModelFormat.safeParse(values.format);
  if (!format.success) throw h.usage(`--format must be tfjs or onnx, got "${String(values.format ?? '')}".`);
  if (typeof values.out !== 'string') throw h.usage('--out DIR is required: a new or empty folder for the model.');
  const outDir = resolve(values.out);

  const service = createService({ projectDir, transport: 'cli' });
  try {
    const started = performance.now();
    let last = 0;
    await waitForJob(
      service,
      () => service.call('exportModel', { roundId, format: format.data, outDir }),
      (p) => {
        if (Date.now() - last < 250 && p.done !== p.total) return;
        last = Date.now();
        process.stderr.write(`export-model ${p.phase}: ${p.done}/${p.total}${process.stderr.isTTY ? '\r' : '\n'}`);
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const files = readdirSync(outDir).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((name) => ({ name, bytes: statSync(join(outDir, name)).size }));
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    if (values.json) {
      console.log(JSON.stringify({ roundId, format: format.data, outDir, files, bytes, seconds: Number(seconds.toFixed(2)) }));
      return;
    }
    console.log(`Exported round ${roundId} as ${format.data} to ${outDir} (${files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB) in ${seconds.toFixed(1)} s; model-card.json says how to run it.`);
  } finally {
    service.close();
  }
}
