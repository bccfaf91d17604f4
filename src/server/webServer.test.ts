import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { zeroPng } from '../core/testFixtures/hostilePngs';
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
  writePng(join(gta, 'images', '00002.png'), 16, 8, 3, 50);
  writePng(join(gta, 'images', '00003.png'), 16, 8, 3, 60);
  writePng(join(gta, 'images', '00004.png'), 16, 8, 3, 70);
  writePng(join(gta, 'labels', '00004.png'), 16, 8, 1, 7);
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
    expect(list.result).toEqual([expect.objectContaining({ kind: 'gta5', role: 'source', counts: { train: 4, val: 0, test: 0 } })]);
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

/** A raw HTTP GET, so that the Host header and the path go out exactly as written. */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens an authorised socket and resolves once it is open. */
function openSocket(options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`, options);
    ws.on('error', reject);
    ws.on('open', () => resolve(ws));
  });
}

/** Sends `data` and resolves with the first reply, or with the close code when the server closes instead. */
function firstAnswer(ws: WebSocket, sendIt: () => void): Promise<{ reply?: { id: number; ok: boolean; error?: string }; closed?: number }> {
  return new Promise((resolve) => {
    ws.on('error', () => undefined);
    ws.once('message', (raw) => resolve({ reply: JSON.parse(String(raw)) }));
    ws.once('close', (code) => resolve({ closed: code }));
    sendIt();
  });
}

async function stillServing(): Promise<void> {
  const list = await rpc(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`, 'listDatasets', {});
  expect(list.ok).toBe(true);
}

/** A client frame with the mask bit set (as the protocol requires) and a zero mask. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const header = payload.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | payload.length]) : Buffer.from([0x80 | opcode, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

async function imageIdNamed(name: string): Promise<number> {
  const images = (await rpc(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`, 'listImages', { datasetId: 1 })).result as { id: number; name: string }[];
  const found = images.find((image) => image.name.includes(name));
  if (!found) throw new Error(`no image named ${name} in ${JSON.stringify(images)}`);
  return found.id;
}

describe('web mode server under bad input', () => {
  it.each([
    ['null', 'null'],
    ['a number', '42'],
    ['an array', '[1, 2, 3]'],
    ['a string', '"listDatasets"'],
    ['an envelope with a method that is not a string', '{"id": 3, "method": {"x": 1}}'],
    ['a prototype key as method', '{"id": 4, "method": "__proto__"}'],
    ['text that is not JSON', '{"id": 5, "method": '],
  ])('answers a message that is %s with a sentence and keeps serving', async (_what, text) => {
    const ws = await openSocket();
    const answer = await firstAnswer(ws, () => ws.send(text));
    ws.close();
    expect(answer.reply).toMatchObject({ ok: false, error: expect.stringMatching(/\.$/) });
    await stillServing();
  });

  it('answers a binary message with a sentence', async () => {
    const ws = await openSocket();
    const answer = await firstAnswer(ws, () => ws.send(Buffer.from([0xff, 0x00, 0x13])));
    ws.close();
    expect(answer.reply?.error).toMatch(/Binary messages are not part of the protocol/);
    await stillServing();
  });

  it.each([
    ['invalid UTF-8 in a text frame', maskedFrame(0x1, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))],
    ['an unmasked frame', Buffer.from([0x81, 0x02, 0x7b, 0x7d])],
    ['a reserved opcode', maskedFrame(0x3, Buffer.from('{}'))],
    ['a frame declaring more than the contract allows', Buffer.concat([Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0]), Buffer.alloc(4)])],
  ])('closes the socket on %s and keeps serving', async (_what, frame) => {
    const ws = await openSocket();
    const answer = await firstAnswer(ws, () => (ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(frame));
    expect(answer.closed).toBeGreaterThanOrEqual(1002);
    await stillServing();
  });

  it('accepts a message larger than 1 MiB (a big stroke) and answers it', async () => {
    const ws = await openSocket();
    const delta = 'A'.repeat(3 * 1024 * 1024);
    const answer = await firstAnswer(ws, () =>
      ws.send(JSON.stringify({ id: 9, method: 'applyStroke', input: { imageId: 1, baseRevision: 0, baseRoundId: null, tool: 'fill', classId: 1, delta, ms: 1 } })),
    );
    ws.close();
    expect(answer.reply).toMatchObject({ id: 9, ok: false, error: expect.stringMatching(/stroke could not be read/) });
    await stillServing();
  });

  it('answers 404 with a sentence when an image file became a folder or unreadable after import', async () => {
    const auth = { headers: { authorization: `Bearer ${server.token}` } };
    const folderId = await imageIdNamed('00002');
    const file = join(dir, 'gta', 'images', '00002.png');
    rmSync(file);
    mkdirSync(file);
    const folder = await fetch(`${base}/api/image/${folderId}/rgb`, auth);
    expect(folder.status).toBe(404);
    expect(await folder.text()).toMatch(/(can no longer be read|is not a regular file any more).*[Ii]mport the (dataset|folder) again\.$/);
    await stillServing();

    if (process.getuid?.() !== 0) {
      const lockedId = await imageIdNamed('00003');
      chmodSync(join(dir, 'gta', 'images', '00003.png'), 0o000);
      const locked = await fetch(`${base}/api/image/${lockedId}/rgb`, auth);
      expect(locked.status).toBe(404);
      expect(await locked.text()).toMatch(/can no longer be read|cannot be read|not a regular file/);
      await stillServing();
    }
  });

  it('answers 400 to a malformed percent-encoding, in a path or in the cookie', async () => {
    const auth = { authorization: `Bearer ${server.token}`, host: `127.0.0.1:${server.port}` };
    const bad = await rawGet(server.port, '/%E0%A4%A', auth);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/malformed percent-encoding/);
    const cookie = await rawGet(server.port, '/', { host: `127.0.0.1:${server.port}`, cookie: `corda_token_${server.port}=%zz` });
    expect(cookie.status).toBe(401);
    await stillServing();
  });

  it('answers only to the loopback names of its port as Host, on HTTP and on the socket', async () => {
    const bearer = { authorization: `Bearer ${server.token}` };
    for (const host of ['127.0.0.1', 'localhost']) {
      expect((await rawGet(server.port, '/', { ...bearer, host: `${host}:${server.port}` })).status).toBe(200);
    }
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, '127.0.0.1', `localhost.evil:${server.port}`]) {
      const answer = await rawGet(server.port, '/', { ...bearer, host });
      expect(answer.status, host).toBe(421);
      expect(answer.body).toMatch(/answers only to 127\.0\.0\.1 or localhost/);
    }
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`, { headers: { host: `rebound.example:${server.port}` } });
        ws.on('open', () => resolve('open'));
        ws.on('error', reject);
      }),
    ).rejects.toThrow(/403/);
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`, { origin: 'http://evil.example' });
        ws.on('open', () => resolve('open'));
        ws.on('error', reject);
      }),
    ).rejects.toThrow(/401/);
    await stillServing();
  });

  it('sends no referrer, and names its cookie after its port', async () => {
    const res = await fetch(`${base}/?token=${server.token}`);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('set-cookie')).toMatch(new RegExp(`^corda_token_${server.port}=`));
    const image = await fetch(`${base}/api/image/1/rgb`, { headers: { cookie: `corda_token_${server.port}=${server.token}` } });
    expect(image.status).toBe(200);
    expect(image.headers.get('referrer-policy')).toBe('no-referrer');
    const otherPort = await fetch(`${base}/api/image/1/rgb`, { headers: { cookie: `corda_token_${server.port + 1}=${server.token}` } });
    expect(otherPort.status).toBe(401);
  });

  it('refuses a ground truth declaring 16000x16000 with a sentence, at once, and answers others meanwhile', async () => {
    const auth = { headers: { authorization: `Bearer ${server.token}` } };
    const id = await imageIdNamed('00004');
    writeFileSync(join(dir, 'gta', 'labels', '00004.png'), await zeroPng(16000, 16000));
    const started = Date.now();
    const [overlay, other] = await Promise.all([fetch(`${base}/api/image/${id}/label`, auth), fetch(`${base}/api/image/1/label`, auth)]);
    expect(overlay.status).toBe(404);
    expect(await overlay.text()).toMatch(/declares 16000x16000 pixels, more than the 16,777,216 the workbench reads; it was not decoded\.$/);
    expect(other.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    await stillServing();
  });
});
