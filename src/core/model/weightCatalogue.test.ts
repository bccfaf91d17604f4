// The weight download against a local HTTP server (never the internet): an interrupted transfer resumes from its
// .partial file with a Range request, a wrong sha256 is refused and the partial removed, a 404 and an unreachable
// host get one sentence that says what to download by hand; `corda weights list|fetch` from a terminal.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE, fetchWeights, type CatalogueEntry, type FetchProgress } from './weightCatalogue';

const CONTENT = randomBytes(300_000);
const SHA = createHash('sha256').update(CONTENT).digest('hex');
let server: Server;
let base: string;
let work: string;
/** Bytes after which the next full (non-Range) answer breaks the connection; null = answer in full. */
let cutAfter: number | null = null;
const ranges: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'corda-weights-'));
  server = createServer((req, res) => {
    const name = req.url!.slice(1);
    if (name !== 'w.pth' && name !== 'mobilenet_v2-b0353104.pth') {
      res.writeHead(404).end();
      return;
    }
    const range = req.headers.range;
    if (range) {
      ranges.push(range);
      const start = Number(/bytes=(\d+)-/.exec(range)![1]);
      if (start >= CONTENT.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, { 'content-length': CONTENT.length - start, 'content-range': `bytes ${start}-${CONTENT.length - 1}/${CONTENT.length}` });
      res.end(CONTENT.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': CONTENT.length });
    if (cutAfter !== null) {
      res.write(CONTENT.subarray(0, cutAfter), () => setTimeout(() => res.socket?.destroy(), 50));
      cutAfter = null;
      return;
    }
    res.end(CONTENT);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

const entry = (over: Partial<CatalogueEntry>): CatalogueEntry => ({
  name: 'test', description: 'test weights', preset: 'tiny', use: '--init', urls: [`${base}/w.pth`], fileName: 'w.pth',
  bytes: CONTENT.length, sha256: SHA, sha256Prefix: null, manual: null, source: 'test', ...over,
});

describe('fetchWeights', () => {
  it('resumes an interrupted transfer from its .partial file with a Range request and renames it into place', async () => {
    const dir = join(work, 'resume');
    cutAfter = 100_000;
    await expect(fetchWeights(entry({}), { dir })).rejects.toThrow(/broke off after \d+ bytes.*corda weights fetch test. again to resume it|stopped at \d+ of 300000 bytes/);
    const kept = statSync(join(dir, 'w.pth.partial')).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(CONTENT.length);
    expect(existsSync(join(dir, 'w.pth'))).toBe(false);
    const progress: FetchProgress[] = [];
    const result = await fetchWeights(entry({}), { dir, onProgress: (p) => progress.push(p) });
    expect(ranges).toContain(`bytes=${kept}-`);
    expect(progress.at(-1)).toMatchObject({ done: CONTENT.length, total: CONTENT.length, resumedFrom: kept });
    expect(result).toMatchObject({ path: join(dir, 'w.pth'), bytes: CONTENT.length, sha256: SHA, cached: false, checked: 'full' });
    expect(readFileSync(result.path).equals(CONTENT)).toBe(true);
    expect(existsSync(join(dir, 'w.pth.partial'))).toBe(false);
    await expect(fetchWeights(entry({}), { dir })).resolves.toMatchObject({ cached: true, sha256: SHA });
  });

  it('refuses a file whose sha256 is not the expected one and removes the partial', async () => {
    const dir = join(work, 'wrong');
    await expect(fetchWeights(entry({ sha256: '0'.repeat(64) }), { dir })).rejects.toThrow(/has sha256 [0-9a-f]{16}… where 0{64} was expected, so it was removed/);
    expect(existsSync(join(dir, 'w.pth.partial'))).toBe(false);
    expect(existsSync(join(dir, 'w.pth'))).toBe(false);
    // Only the prefix known (a PyTorch-hub name): checked against it.
    await expect(fetchWeights(entry({ sha256: null, sha256Prefix: SHA.slice(0, 8) }), { dir })).resolves.toMatchObject({ checked: 'prefix' });
  });

  it('refuses a size other than the published one', async () => {
    await expect(fetchWeights(entry({ bytes: 123 }), { dir: join(work, 'size') })).rejects.toThrow(/has 300000 bytes instead of 123, so it was removed/);
    expect(existsSync(join(work, 'size', 'w.pth.partial'))).toBe(false);
  });

  it('says what to download by hand on a 404, an unreachable host and a by-hand entry', async () => {
    await expect(fetchWeights(entry({ urls: [`${base}/gone.pth`], fileName: 'gone.pth' }), { dir: join(work, '404') }))
      .rejects.toThrow(/^"test" cannot be fetched, http:\/\/127\.0\.0\.1:\d+\/gone\.pth answered 404 Not Found: download .*gone\.pth by hand, then pass it with `corda adapt --init FILE --preset tiny`\.$/);
    await expect(fetchWeights(entry({ urls: ['http://127.0.0.1:1/w.pth'] }), { dir: join(work, 'down') }))
      .rejects.toThrow(/cannot be fetched, 127\.0\.0\.1:1 cannot be reached( \(\w+\))?: download http:\/\/127\.0\.0\.1:1\/w\.pth by hand/);
    const gta = CATALOGUE.find((e) => e.name === 'corda-gta5')!;
    await expect(fetchWeights(gta, { dir: join(work, 'drive'), env: {} })).rejects.toThrow(/drive\.google\.com.*gta\/checkpoint-iter250000\.pth.*corda import-model FILE --project DIR --preset paper/);
  });
});

describe('the catalogue', () => {
  it('names every entry once, with a URL, and a hash only as the reference publishes it', () => {
    expect(new Set(CATALOGUE.map((e) => e.name)).size).toBe(CATALOGUE.length);
    for (const e of CATALOGUE) {
      expect(e.urls.length).toBeGreaterThan(0);
      expect(e.sha256).toBeNull();
      // A prefix comes from the file name (PyTorch hub convention) and nowhere else.
      if (e.sha256Prefix) expect(e.fileName).toContain(`-${e.sha256Prefix}.pth`);
    }
  });
});

const CLI_ARGS = ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', 'cli', 'run.ts')];
function corda(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('corda weights list and fetch', () => {
  it('lists the catalogue and fetches through a mirror, refusing a file whose hash is not the one its name carries', async () => {
    const home = join(work, 'home');
    const list = await corda(['weights', 'list', '--json'], { CORDA_HOME: home });
    expect(list.status, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed.cacheDir).toBe(join(home, 'weights'));
    expect(listed.entries.map((e: { name: string }) => e.name)).toEqual(CATALOGUE.map((e) => e.name));
    const text = await corda(['weights', 'list'], { CORDA_HOME: home });
    expect(text.stdout).toMatch(/mobilenet-v2-imagenet .*\n(.*\n)*.*sha256 starts b0353104 \(from its name; the full hash is not published\)/);

    const fetched = await corda(['weights', 'fetch', 'mobilenet-v2-imagenet', '--json'], { CORDA_HOME: home, CORDA_WEIGHTS_BASE_URL: base });
    expect(fetched.status).toBe(1);
    expect(fetched.stderr).toMatch(/^corda: The download of "mobilenet-v2-imagenet" has sha256 [0-9a-f]{16}… where b0353104… was expected, so it was removed/m);
    expect(existsSync(join(home, 'weights', 'mobilenet_v2-b0353104.pth.partial'))).toBe(false);

    const offline = await corda(['weights', 'fetch', 'deeplab-resnet101-coco'], { CORDA_HOME: home, CORDA_WEIGHTS_BASE_URL: 'http://127.0.0.1:1' });
    expect(offline.status).toBe(1);
    expect(offline.stderr.trim()).toMatch(/^corda: "deeplab-resnet101-coco" cannot be fetched, 127\.0\.0\.1:1 cannot be reached( \(\w+\))?: download http:\/\/vllab1\.ucmerced\.edu\/~whung\/adv-semi-seg\/resnet101COCO-41f33a49\.pth by hand, then pass it with `corda adapt --init FILE --preset paper`\.$/);

    const unknown = await corda(['weights', 'fetch', 'nope'], { CORDA_HOME: home });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr.trim()).toMatch(/^corda: There is no "nope" in the weight catalogue/);
  });
});
