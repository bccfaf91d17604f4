// `corda simulate-annotator`: RIPU's simulated annotator. Walks a round's region queue as a person would and
// copies the ground truth into each region until the training split's corrected share reaches the budget.
import { TRAINING_SPLIT } from '../shared/api';
import { createService } from '../core/service';
import { simulateAnnotator } from './simulateAnnotator';
import type { CommandHelpers } from './engineCommands';

const positiveId = (value: string | boolean | undefined, flag: string, h: CommandHelpers): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) throw h.usage(`${flag} needs an id (a positive whole number), got "${String(value)}".`);
  return n;
};

const percent = (share: number) => `${(share * 100).toFixed(2)} %`;

export async function simulateAnnotatorCommand(args: string[], h: CommandHelpers): Promise<void> {
  const { values } = h.parse(args, {
    project: { type: 'string' }, dataset: { type: 'string' }, round: { type: 'string' }, budget: { type: 'string' },
    json: { type: 'boolean' },
  });
  const projectDir = h.requireProject(values.project as string | undefined);
  const datasetId = positiveId(values.dataset, '--dataset', h);
  if (datasetId === undefined) throw h.usage('--dataset ID is required: the target dataset whose regions are corrected (`corda datasets --project DIR` lists the ids).');
  const roundId = positiveId(values.round, '--round', h);
  if (values.budget === undefined) throw h.usage('--budget FRACTION is required: the share of the target train split\'s pixels to correct, e.g. 0.022 for 2.2 %.');
  const budget = Number(values.budget);
  if (typeof values.budget !== 'string' || !/^\s*[0-9.eE+-]+\s*$/.test(values.budget) || !(budget > 0 && budget <= 1)) {
    throw h.usage(`--budget must be a share between 0 and 1 (0.022 for 2.2 %), got "${String(values.budget)}".`);
  }

  const service = createService({ projectDir, transport: 'cli' });
  try {
    let last = 0;
    const result = await simulateAnnotator(service, {
      datasetId,
      budget,
      ...(roundId !== undefined && { roundId }),
      onProgress: ({ regions, share }) => {
        if (Date.now() - last < 1000) return;
        last = Date.now();
        process.stderr.write(`simulate-annotator: ${regions} regions, ${percent(share)} of the ${TRAINING_SPLIT} pixels${process.stderr.isTTY ? '\r' : '\n'}`);
      },
    });
    if (values.json) {
      console.log(JSON.stringify(result));
      return;
    }
    console.log(
      `Simulated annotator on round ${result.roundId} of dataset ${result.datasetId}: ${result.regions} regions corrected` +
        `${result.skipped ? `, ${result.skipped} on other splits skipped` : ''}; ${result.pixels} pixels set from the ground truth ` +
        `(${result.relabelled} of them changed label) in ${result.strokes} strokes.`,
    );
    console.log(
      `Corrected: ${percent(result.share)} of the ${result.split} split's pixels (budget ${percent(result.budget)}; the editor's meter: ${percent(result.meter.share)}).`,
    );
    if (result.stopped === 'queue') console.log(`The round's queue ran out before the budget was reached.`);
  } finally {
    service.close();
  }
}
