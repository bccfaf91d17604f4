import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createService, type Service } from '../core/service';
import { startWebServer, type RunningWebServer } from './webServer';

let dir: string;
let service: Service;
let server: RunningWebServer;
let base: string;

function writePng(path: string, width: number, height: number, channels: 1 | 3, value: number) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, encode({ width, height, channels, depth: 8, data: new Uint8Array(width * height * channels).fill(value) }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corda-web-'));
  const gta = join(dir, 'gta');
  writePng(join(gta, 'images', '00001.png'), 16, 8, 3, 90);
  writePng(join(gta, 'labels', '00001.png'), 16, 8, 1, 7);
  writeFileSync(join(dir, 'secret.txt'), 'not for the browser');
  const renderer = join(dir, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title>');
  service = createService({ projectDir: join(dir, 'project'), transport: 'web', create: true });
  await service.call('importDataset', { folder: gta });
  server = await startWebServer({ service, rendererDir: renderer, port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
  service.close();
  rmSync(dir, { recursive: true, force: true });
});

function rpc(url: string, method: string, input: unknown): Promise<{ ok: boolean; result?: unknown; error?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method, input })));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.id === 1) {
        ws.close();
        resolve(msg);
      }
    });
  });
}

describe('web mode server', () => {
  it('listens on 127.0.0.1 and prints a URL with the token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
  });

  it('answers 401 to HTTP requests without the token or with a wrong one', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/?token=nope`)).status).toBe(401);
    expect((await fetch(`${base}/api/image/1/rgb`)).status).toBe(401);
  });

  it('serves the page with the token, sets a strict cookie and a CSP', async () => {
    const res = await fetch(`${base}/?token=${server.token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${base}/index.html`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses sockets without the token', async () => {
    await expect(rpc(`ws://127.0.0.1:${server.port}/api/ws`, 'listDatasets', {})).rejects.toThrow(/401/);
  });

  it('runs contract methods over the socket and validates their input', async () => {
    const url = `ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`;
    const list = await rpc(url, 'listDatasets', {});
    expect(list.ok).toBe(true);
    expect(list.result).toEqual([expect.objectContaining({ kind: 'gta5', role: 'source', counts: { train: 1, val: 0, test: 0 } })]);
    const bad = await rpc(url, 'listImages', { datasetId: 'one' });
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/Invalid input for listImages at "datasetId"/) });
    const unknown = await rpc(url, 'deleteEverything', {});
    expect(unknown).toMatchObject({ ok: false, error: expect.stringMatching(/Unknown method/) });
  });

  it('serves images by id only, and nothing outside the renderer folder', async () => {
    const auth = { headers: { authorization: `Bearer ${server.token}` } };
    const rgb = await fetch(`${base}/api/image/1/rgb`, auth);
    expect(rgb.status).toBe(200);
    expect(rgb.headers.get('content-type')).toBe('image/png');
    const thumb = await fetch(`${base}/api/image/1/thumb`, auth);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    expect((await fetch(`${base}/api/image/999/rgb`, auth)).status).toBe(404);
    expect((await fetch(`${base}/api/image/1/passwd`, auth)).status).toBe(404);
    expect((await fetch(`${base}/..%2Fsecret.txt`, auth)).status).toBe(404);
  });

  it('takes a free port when the one asked for is taken and fallback is allowed; fails with a sentence otherwise', async () => {
    const renderer = join(dir, 'renderer');
    await expect(startWebServer({ service, rendererDir: renderer, port: server.port })).rejects.toThrow(/Port \d+ is already in use/);
    const other = await startWebServer({ service, rendererDir: renderer, port: server.port, portFallback: true });
    try {
      expect(other.port).not.toBe(server.port);
      expect(other.port).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  it('answers on the same port with the same token after a restart', async () => {
    const renderer = join(dir, 'renderer');
    const first = await startWebServer({ service, rendererDir: renderer, port: 0, token: server.token });
    const { port } = first;
    await first.close();
    const again = await startWebServer({ service, rendererDir: renderer, port, token: server.token });
    try {
      expect(again.url).toBe(first.url);
      expect((await rpc(`ws://127.0.0.1:${port}/api/ws?token=${server.token}`, 'listDatasets', {})).ok).toBe(true);
    } finally {
      await again.close();
    }
  });
});
