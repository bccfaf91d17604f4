// The Library in web mode: datasets, filters, the virtualised grid, the image view with its overlay, and import.
// The global setup (playwright.config.ts) starts the server on a project with the demo Cityscapes set imported.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { fromSetup } from './fromSetup';


async function imageCount(page: Page): Promise<number> {
  const text = (await page.getByTestId('image-count').textContent()) ?? '';
  const match = /^([\d,]+) images?$/.exec(text.trim());
  return match ? Number(match[1]!.replace(/,/g, '')) : Number.NaN;
}

test('browse, filter, view with overlay, and import datasets', async ({ page }) => {
  test.setTimeout(120_000);
  const appUrl = fromSetup('CORDA_E2E_URL');
  const demoDir = fromSetup('CORDA_E2E_DEMO_DIR');
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  await page.goto(appUrl);

  // The imported Cityscapes demo is the selected target dataset, and its thumbnails show.
  const datasets = page.getByTestId('dataset-item');
  await expect(datasets).toHaveCount(1);
  await expect(datasets.first()).toHaveAttribute('data-role', 'target');
  await expect(datasets.first()).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('image-count')).toHaveText(/^[1-9][\d,]* images?$/);
  const total = await imageCount(page);
  const thumbs = page.getByTestId('thumb');
  await expect(thumbs.first()).toBeVisible();
  await expect(thumbs.first().locator('img')).toHaveJSProperty('complete', true);

  // Split filter: fewer images, all of them val.
  await page.getByTestId('filter-split').selectOption('val');
  await expect.poll(() => imageCount(page)).toBeLessThan(total);
  const valCount = await imageCount(page);
  expect(valCount).toBeGreaterThan(0);
  expect(await thumbs.evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-split')))).toEqual(
    Array<string>(await thumbs.count()).fill('val'),
  );

  // "has labels": every visible thumb has ground truth; then back to all splits, still labelled only.
  await page.getByTestId('filter-labels').check();
  await expect.poll(() => imageCount(page)).toBeLessThanOrEqual(valCount);
  await page.getByTestId('filter-split').selectOption('');
  await expect.poll(() => imageCount(page)).toBeGreaterThan(1);
  await expect(page.getByTestId('image-count')).not.toHaveText('Loading…');
  expect(await thumbs.evaluateAll((cells) => cells.every((cell) => cell.getAttribute('data-has-labels') === 'true'))).toBe(true);

  // Open the first image with Enter on its focused thumb.
  await thumbs.first().focus();
  await page.keyboard.press('Enter');
  const view = page.getByTestId('image-view');
  await expect(view).toBeVisible();
  const viewport = page.getByTestId('image-viewport');
  await expect(viewport).toHaveAttribute('data-layers-loaded', /(^|,)rgb(,|$)/);
  await expect(viewport).toHaveAttribute('data-layers-loaded', /(^|,)gt(,|$)/);
  await page.waitForTimeout(200);
  await page.screenshot({ path: 'artifacts/e2e-library.png', fullPage: true });

  // The ground-truth layer: its opacity slider and checkbox change what the canvas shows.
  const centrePixel = () => page.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid="image-viewport"] canvas');
    const { width, height } = canvas;
    return Array.from(canvas.getContext('2d').getImageData(width / 2, height / 2, 1, 1).data).join(',');
  })()`);
  const slider = page.getByTestId('layer-opacity-gt');
  await expect(slider).toHaveValue('0.5');
  await slider.focus();
  await page.keyboard.press('End');
  await expect(slider).toHaveValue('1');
  await page.waitForTimeout(100);
  const withGroundTruth = await centrePixel();
  await page.getByTestId('layer-toggle-gt').uncheck();
  await expect.poll(centrePixel).not.toBe(withGroundTruth);
  await page.getByTestId('layer-toggle-gt').check();
  await expect.poll(centrePixel).toBe(withGroundTruth);

  // `o` toggles the correction layer.
  await expect(page.getByTestId('layer-toggle-correction')).toBeChecked();
  await viewport.focus();
  await page.keyboard.press('o');
  await expect(page.getByTestId('layer-toggle-correction')).not.toBeChecked();

  // Next image with the arrow key.
  const title = page.getByTestId('image-title');
  const firstTitle = await title.textContent();
  expect(firstTitle).toMatch(/^1 \/ \d+/);
  await page.keyboard.press('ArrowRight');
  await expect(title).not.toHaveText(firstTitle!);
  await expect(title).toHaveText(/^2 \/ \d+/);

  // Wheel zoom about the cursor changes the zoom level.
  const zoom = page.getByTestId('zoom-level');
  const fittedZoom = await zoom.textContent();
  const box = (await viewport.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -400);
  await expect(zoom).not.toHaveText(fittedZoom!);
  await page.keyboard.press('f');
  await expect(zoom).toHaveText(fittedZoom!);

  // Escape goes back to the grid, with focus on the image that was open.
  await page.keyboard.press('Escape');
  await expect(view).toBeHidden();
  await expect(page.getByTestId('thumbnail-grid')).toBeVisible();
  await expect(page.locator('[data-testid="thumb"]:focus')).toHaveAttribute('data-index', '1');

  // Import the GTA5 demo through the path field: a second dataset, as source.
  await page.getByTestId('open-folder').click();
  await page.getByTestId('folder-path').fill(join(demoDir, 'gta5'));
  await page.getByTestId('import-role').selectOption('auto');
  await page.getByTestId('import-submit').click();
  await expect(page.getByTestId('import-summary')).toBeVisible({ timeout: 60_000 });
  await expect(datasets).toHaveCount(2);
  await expect(page.locator('[data-testid="dataset-item"][data-role="source"]')).toHaveCount(1);
  await expect(page.locator('[data-testid="dataset-item"][data-role="source"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('image-count')).toHaveText(/^[1-9][\d,]* images?$/);

  // A folder that is no dataset: a readable error that names the expected layouts.
  const notADataset = mkdtempSync(join(tmpdir(), 'corda-e2e-empty-'));
  mkdirSync(join(notADataset, 'photos'));
  await page.getByTestId('folder-path').fill(notADataset);
  await page.getByTestId('import-submit').click();
  await expect(page.getByTestId('import-error')).toContainText('Cityscapes');
  await expect(datasets).toHaveCount(2);

  expect(pageErrors).toEqual([]);
});
