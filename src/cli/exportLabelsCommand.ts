// `corda export-labels`: a dataset's corrected or predicted labels in the Cityscapes gtFine layout.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LabelFormat, LabelSource } from '../shared/api';
import { createService } from '../core/service';
import type { LabelExportManifest } from '../core/export/labels/exportLabels';
import type { CommandHelpers } from './engineCommands';
import { waitForJob } from './waitForJob';

const positiveId = (value: string | boolean | undefined, flag: string, h: CommandHelpers): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) throw h.usage(`${flag} needs an id (a positive whole number), got "${String(value)}".`);
  return n;
};

export async function exportLabelsCommand(args: string[], h: CommandHelpers): Promise<void> {
  const { values } = h.parse(args, {
    project: { type: 'string' }, dataset: { type: 'string' }, out: { type: 'string' }, which: { type: 'string' },
    format: { type: 'string' }, round: { type: 'string' }, json: { type: 'boolean' },
  });
  const projectDir = h.requireProject(values.project as string | undefined);
  const datasetId = positiveId(values.dataset, '--dataset', h);
  if (datasetId === undefined) throw h.usage('--dataset ID is required: `corda datasets --project DIR` lists the ids.');
  if (typeof values.out !== 'string') throw h.usage('--out DIR is required: a new or empty folder for the export.');
  const which = LabelSource.safeParse(values.which);
  if (!which.success) throw h.usage(`--which must be corrected, predicted or best, got "${String(values.which ?? '')}".`);
  const format = LabelFormat.safeParse(values.format ?? 'labelIds');
  if (!format.success) throw h.usage(`--format must be labelIds, trainIds or color, got "${String(values.format)}".`);
  const roundId = positiveId(values.round, '--round', h);
  const outDir = resolve(values.out);

  const service = createService({ projectDir, transport: 'cli' });
  try {
    let last = 0;
    await waitForJob(
      service,
      () => service.call('exportLabels', { datasetId, which: which.data, format: format.data, outDir, ...(roundId !== undefined && { roundId }) }),
      (p) => {
        if (Date.now() - last < 250 && p.done !== p.total) return;
        last = Date.now();
        process.stderr.write(`export-labels ${p.phase}: ${p.done}/${p.total}${process.stderr.isTTY ? '\r' : '\n'}`);
      },
    );
    const manifest = JSON.parse(readFileSync(join(outDir, 'export.json'), 'utf8')) as LabelExportManifest;
    if (values.json) {
      console.log(JSON.stringify({ outDir, which: manifest.which, format: manifest.format, roundId: manifest.round?.id ?? null, counts: manifest.counts }));
      return;
    }
    const { images, corrected, predicted, skipped } = manifest.counts;
    console.log(
      `Exported ${images} ${manifest.format} label file(s) of dataset ${datasetId} to ${outDir} ` +
        `(${corrected} corrected, ${predicted} predicted${manifest.round ? ` by round ${manifest.round.id}` : ''}${skipped ? `, ${skipped} skipped: see export.json` : ''}).`,
    );
  } finally {
    service.close();
  }
}
