// The Rounds panel in web mode: run a short DACS round from the sidebar, watch its progress, and see the
// finished row with its backend and mIoU; then cancel a longer round and resume it. Runs after library.spec.ts (files run in order, one worker), which
// imports the GTA5 demo as source; run on its own, it imports that itself.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { fromSetup } from './fromSetup';


/** A round needs a source dataset: import the GTA5 demo when the library spec has not. */
async function ensureSourceDataset(page: Page, demoDir: string): Promise<void> {
  await expect(page.getByTestId('dataset-item').first()).toBeVisible();
  if ((await page.locator('[data-testid="dataset-item"][data-role="source"]').count()) === 0) {
    await page.getByTestId('open-folder').click();
    await page.getByTestId('folder-path').fill(join(demoDir, 'gta5'));
    await page.getByTestId('import-submit').click();
    await expect(page.getByTestId('import-summary')).toBeVisible({ timeout: 60_000 });
  }
  await expect(page.locator('[data-testid="dataset-item"][data-role="source"]')).toHaveCount(1);
}

test('run, cancel and resume rounds from the sidebar', async ({ page }) => {
  test.setTimeout(150_000);
  const appUrl = fromSetup('CORDA_E2E_URL');
  const demoDir = fromSetup('CORDA_E2E_DEMO_DIR');
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  await page.goto(appUrl);
  const panel = page.getByTestId('rounds-panel');
  await expect(panel).toBeVisible();
  const datasets = page.getByTestId('dataset-item');
  await expect(datasets.first()).toBeVisible();

  await ensureSourceDataset(page, demoDir);

  // Defaults, then a two-iteration DACS round.
  await expect(page.getByTestId('round-method')).toHaveValue('corda');
  await expect(page.getByTestId('round-iters')).toHaveValue('1000');
  const rows = page.getByTestId('round-row');
  await expect(panel.getByText('Loading rounds…')).toHaveCount(0);
  const before = await rows.count();
  await page.getByTestId('round-method').selectOption('dacs');
  await page.getByTestId('round-iters').fill('2');
  await page.getByTestId('round-start').click();
  await expect(page.getByTestId('round-progress')).toBeVisible();
  await expect(page.getByTestId('round-cancel')).toBeVisible();

  // The round finishes: a new done row, its backend named and an mIoU in percent; the live line goes away.
  const done = page.locator('[data-testid="round-row"][data-status="done"]');
  await expect(done.first()).toBeVisible({ timeout: 90_000 });
  await expect(rows).toHaveCount(before + 1);
  await expect(page.getByTestId('round-progress')).toBeHidden();
  const row = done.first();
  await expect(row).toContainText('dacs');
  await expect(row).toContainText('2 / 2');
  await expect(row.getByTestId('round-backend')).toHaveText(/^(?!—)\S+/);
  await expect(row.getByTestId('round-miou')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('round-error')).toHaveCount(0);

  await page.screenshot({ path: 'artifacts/e2e-rounds.png', fullPage: true });

  // A longer round, cancelled once it trains: its row offers Resume, which runs it again until cancelled.
  await page.getByTestId('round-iters').fill('500');
  await page.getByTestId('round-start').click();
  const live = page.getByTestId('round-live');
  await expect(live).toContainText('img/s', { timeout: 60_000 });
  await page.getByTestId('round-cancel').click();
  const cancelled = page.locator('[data-testid="round-row"][data-status="cancelled"]');
  await expect(cancelled).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId('round-progress')).toBeHidden();
  await cancelled.getByTestId('round-resume').click();
  await expect(page.getByTestId('round-progress')).toBeVisible();
  await expect(live).toContainText('img/s', { timeout: 60_000 });
  await expect(page.locator('[data-testid="round-row"][data-status="running"]')).toHaveCount(1);
  await page.getByTestId('round-cancel').click();
  await expect(cancelled).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId('round-progress')).toBeHidden();
  await expect(rows).toHaveCount(before + 2);
  expect(pageErrors).toEqual([]);
});

test('the Rounds view runs a round with a loss chart and a val chart, shows its metrics row, and exports the model and labels', async ({ page }) => {
  test.setTimeout(180_000);
  const appUrl = fromSetup('CORDA_E2E_URL');
  const out = mkdtempSync(join(tmpdir(), 'corda-e2e-export-'));
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    await page.goto(appUrl);
    await ensureSourceDataset(page, fromSetup('CORDA_E2E_DEMO_DIR'));
    await page.getByTestId('tab-rounds').click();
    const view = page.getByTestId('rounds-view');
    await expect(view).toBeVisible();
    await expect(page.getByTestId('rv-source')).not.toHaveValue('');
    // Count the history only once it has loaded: counting an unloaded table would make any old row look new.
    await expect(view.getByText('Loading rounds…')).toHaveCount(0);
    const historyRows = page.locator('[data-testid="rv-row"]');
    const before = await historyRows.count();

    await page.getByTestId('rv-method').selectOption('corda');
    await page.getByTestId('rv-iters').fill('12');
    // Start from a checkpoint file: the path field appears, and Run waits for it; back to the default afterwards.
    const startFrom = page.getByTestId('rv-start-from');
    const defaultStart = await startFrom.inputValue();
    await startFrom.selectOption('checkpoint');
    await expect(page.getByTestId('rv-init-file')).toBeVisible();
    await expect(page.getByTestId('rv-init-from')).toHaveValue('model');
    await expect(page.getByTestId('rv-start')).toBeDisabled();
    await startFrom.selectOption(defaultStart);
    await expect(page.getByTestId('rv-init-file')).toHaveCount(0);
    await page.getByTestId('rv-start').click();
    await expect(page.getByTestId('rv-progress')).toBeVisible();
    await expect(page.getByTestId('rv-live-line')).toContainText('img/s', { timeout: 60_000 });
    await expect(page.getByTestId('loss-chart')).toBeVisible({ timeout: 60_000 });
    // Beside it the val chart, or until the first scoring (iteration 10 of 12) the sentence that it is coming.
    await expect(page.getByTestId('rv-val-chart').or(page.getByTestId('rv-val-chart-empty'))).toBeVisible();
    await page.screenshot({ path: 'artifacts/e2e-rounds-view.png', fullPage: true });

    // The new round is the history's first row; it turns done once it is trained, predicted and evaluated.
    await expect(historyRows).toHaveCount(before + 1, { timeout: 60_000 });
    const row = historyRows.first();
    await expect(row).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
    await expect(row.getByTestId('rv-miou')).toHaveText(/^\d+\.\d%$/);
    await row.getByTestId('rv-per-class').click();
    await expect(page.getByTestId('rv-class-table')).toContainText('road');
    // The finished round's learning curve: scored at iteration 10 and by the final evaluation at 12.
    const valChart = page.getByTestId('rv-round-val-chart');
    await expect(valChart).toBeVisible();
    await expect(valChart.getByRole('img')).toHaveAttribute('aria-label', /^Target val mIoU against iterations: \d+\.\d% at iteration 12/);
    expect(await valChart.getByTestId('rv-round-val-chart-point').count()).toBeGreaterThanOrEqual(1);
    await valChart.getByText('numbers', { exact: true }).click();
    await expect(valChart.getByTestId('rv-round-val-chart-table').locator('tbody tr')).toHaveCount(2);
    await valChart.screenshot({ path: 'artifacts/e2e-rounds-val-chart.png' });
    await expect(page.getByTestId('budget-point').first()).toBeVisible();

    // Export the newest round's model as TensorFlow.js, then the labels it predicts.
    const modelDir = join(out, 'model');
    await page.getByTestId('export-format').selectOption('tfjs');
    await page.getByTestId('export-model-dir').fill(modelDir);
    await page.getByTestId('export-model').click();
    await expect(page.getByTestId('export-model-status')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
    expect(existsSync(join(modelDir, 'model.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(modelDir, 'model-card.json'), 'utf8')).classes).toHaveLength(19);

    // The same folder again: refused with a sentence, nothing overwritten.
    await page.getByTestId('export-model').click();
    await expect(page.getByTestId('export-model-status')).toHaveAttribute('data-state', 'failed');

    const labelsDir = join(out, 'labels');
    await page.getByTestId('export-which').selectOption('predicted');
    await page.getByTestId('export-labels-dir').fill(labelsDir);
    await page.getByTestId('export-labels').click();
    await expect(page.getByTestId('export-labels-status')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
    expect(existsSync(join(labelsDir, 'gtFine'))).toBe(true);
    expect(pageErrors).toEqual([]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
