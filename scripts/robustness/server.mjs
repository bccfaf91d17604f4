// Hostile and unlucky input for `corda serve` (web mode), for the robustness runner. Each case starts a real
// server on a throwaway demo project (ctx.serve()), throws one kind of bad input at it, checks the answer (a
// status code and one sentence, never a stack trace) and that the server is still alive afterwards.
// A case throws an Error with a sentence when the server misbehaves.
//
// ctx.serve() → { port, token, url, child, alive(): Promise<boolean>, stop() }; ctx.tmp() → a fresh folder;
// ctx.cli(args) → { status, stdout, stderr }.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { clearTimeout, setTimeout } from 'node:timers';
import { connect } from 'node:net';
import { join } from 'node:path';
import { crc32, createDeflate } from 'node:zlib';
import { encode } from 'fast-png';
import WebSocket from 'ws';

// ---------------------------------------------------------------------------------------------------------
// Helpers

const METHODS = [
  'getAppInfo', 'listDatasets', 'importDataset', 'listImportProblems', 'listImages', 'getImage', 'generateThumbnails',
  'cancelJob', 'pickFolder', 'listRounds', 'startRound', 'resumeRound', 'getCorrection', 'applyStroke', 'undoStroke',
  'redoStroke', 'getBudget', 'nextRegion', 'setRegionState', 'getRegionStats', 'exportModel', 'exportLabels',
];
/** Methods whose empty input is valid and harmless: `null` (read as {}) may succeed for them. */
const EMPTY_OK = new Set(['getAppInfo', 'listDatasets', 'pickFolder', 'listRounds']);
/** The contract's largest WebSocket message (MAX_WS_MESSAGE_BYTES in src/shared/api.ts). */
const MAX_WS_MESSAGE_BYTES = 64 * 1024 * 1024 + 64 * 1024;

function fail(sentence) {
  throw new Error(sentence);
}

/** Starts a server, runs `body(srv)`, then checks the server is alive and stops it. */
async function withServer(ctx, body) {
  const srv = await ctx.serve();
  try {
    await body(srv);
    if (!(await srv.alive())) fail('The server died after this input.');
  } finally {
    await srv.stop();
  }
}

/** A raw HTTP request with exactly these headers (Host included) and this request target. */
function http(srv, path, { headers = {}, host = `127.0.0.1:${srv.port}`, auth = true, method = 'GET' } = {}) {
  return new Promise((resolve, reject) => {
    const all = { host, ...(auth ? { authorization: `Bearer ${srv.token}` } : {}), ...headers };
    const req = httpRequest({ host: '127.0.0.1', port: srv.port, path, method, headers: all, setHost: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`No answer to ${method} ${path} within 20 s.`)));
    req.end();
  });
}

/** Bytes written straight to a TCP connection; resolves with whatever the server sent back before closing. */
function rawTcp(srv, bytes, waitMs = 3000) {
  return new Promise((resolve, reject) => {
    const socket = connect(srv.port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('timeout', () => reject(new Error('timeout')));
  });
}

/** One sentence of text: no stack trace, no internal error. */
function checkSentence(text, what) {
  if (typeof text !== 'string' || text.trim() === '') fail(`${what}: the answer has no sentence.`);
  if (/\n\s+at |\bat .*\.(js|ts):\d+/.test(text)) fail(`${what}: the answer carries a stack trace: ${text.slice(0, 200)}`);
  if (/^Internal error/i.test(text)) fail(`${what}: the answer is an internal error: ${text.slice(0, 200)}`);
}

function expectStatus(res, status, what) {
  const body = res.body.toString('utf8');
  if (res.status !== status) fail(`${what}: expected status ${status}, got ${res.status} (${body.slice(0, 160)}).`);
  checkSentence(body, what);
  return body;
}

/** A socket to the server with the token; resolves once open. */
function openWs(srv, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api/ws?token=${srv.token}`, { maxPayload: 0, ...options });
    ws.on('error', reject);
    ws.on('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined);
      resolve(ws);
    });
  });
}

/** Sends `data` on an open socket; resolves with the first reply object, or { closed: code } when it closes. */
function answerTo(ws, data, timeoutMs = 20_000) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ timeout: true }), timeoutMs);
    const onMessage = (raw) => {
      const msg = JSON.parse(String(raw));
      if ('event' in msg) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(msg);
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve({ closed: code });
    });
    ws.send(data);
  });
}

async function rpc(srv, method, input) {
  const ws = await openWs(srv);
  try {
    const reply = await answerTo(ws, JSON.stringify({ id: 1, method, input }));
    if (reply.timeout || reply.closed) fail(`No answer to ${method}.`);
    return reply;
  } finally {
    ws.close();
  }
}

async function call(srv, method, input) {
  const reply = await rpc(srv, method, input);
  if (!reply.ok) fail(`${method} failed: ${reply.error}`);
  return reply.result;
}

/** Expects an error reply with a sentence that is not an internal error. */
function expectRefused(reply, what) {
  if (reply.timeout) fail(`${what}: no answer within 20 s.`);
  if (reply.closed) fail(`${what}: the server closed the socket (code ${reply.closed}) instead of answering.`);
  if (reply.ok !== false) fail(`${what}: the server accepted it.`);
  checkSentence(reply.error, what);
}

/**
 * A WebSocket opened by hand over TCP, so that frames can be written exactly (unmasked, invalid, truncated).
 * `frames()` resolves with the frames the server sent until it closed (or `waitMs` passed).
 */
function handWs(srv, { host = `127.0.0.1:${srv.port}`, origin, path = `/api/ws?token=${srv.token}` } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect(srv.port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let refused = null;
    const frames = [];
    let closed = false;
    const closedPromise = new Promise((done) => socket.on('close', () => ((closed = true), done())));
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          (origin ? `Origin: ${origin}\r\n` : '') +
          '\r\n',
      );
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (refused) return; // the rest of the refusal's body: read on close
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const status = Number(head.split(' ')[1]);
        buffer = buffer.subarray(end + 4);
        if (status !== 101) {
          refused = { status, head };
          setTimeout(() => socket.destroy(), 2000).unref();
          return;
        }
        upgraded = true;
        resolve({
          status,
          write: (bytes) => socket.write(bytes),
          end: () => socket.destroy(),
          async frames(waitMs = 5000) {
            await Promise.race([closedPromise, new Promise((r) => setTimeout(r, waitMs))]);
            socket.destroy();
            return { frames, closed };
          },
        });
      }
      // Unmasked server frames: opcode, length (7, 16 or 64 bits), payload.
      for (;;) {
        if (buffer.length < 2) break;
        const opcode = buffer[0] & 15;
        let length = buffer[1] & 127;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) break;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) break;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) break;
        const payload = buffer.subarray(offset, offset + length);
        frames.push(opcode === 8 ? { close: payload.length >= 2 ? payload.readUInt16BE(0) : 1005 } : { opcode, text: payload.toString('utf8') });
        buffer = buffer.subarray(offset + length);
      }
    });
    socket.on('close', () => {
      if (!upgraded) resolve({ status: 0, head: '', ...refused, body: buffer.toString('utf8') });
    });
    setTimeout(() => reject(new Error('The WebSocket handshake got no answer within 10 s.')), 10_000).unref();
  });
}

/** A client frame: FIN, opcode, the mask bit (a zero mask, so the payload goes as it is) unless `masked` is false. */
function frame(opcode, payload, { masked = true, fin = true } = {}) {
  const length = payload.length;
  const head = [(fin ? 0x80 : 0) | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 255);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((length >>> 24) & 255, (length >>> 16) & 255, (length >>> 8) & 255, length & 255);
  }
  return Buffer.concat([Buffer.from(head), masked ? Buffer.alloc(4) : Buffer.alloc(0), payload]);
}

/** Sends hand-made bytes on a fresh socket and expects the server to close that socket (protocol error). */
async function expectSocketClosedOn(srv, bytes, what) {
  const ws = await handWs(srv);
  if (ws.status !== 101) fail(`${what}: the socket was refused (${ws.status}).`);
  ws.write(bytes);
  const { frames, closed } = await ws.frames();
  const close = frames.find((f) => 'close' in f);
  if (!closed && !close) fail(`${what}: the server kept the socket open after a protocol error.`);
  if (close && close.close < 1002) fail(`${what}: closed with code ${close.close}, not a protocol-error code.`);
}

/** The demo project's first dataset with ground truth, and its images in detail. */
async function demoImages(srv) {
  const datasets = await call(srv, 'listDatasets', {});
  const dataset = datasets.find((d) => d.withLabels > 0) ?? fail('The demo project has no dataset with ground truth.');
  const images = await call(srv, 'listImages', { datasetId: dataset.id });
  if (images.length < 2) fail('The demo project has fewer than two images.');
  const details = [];
  for (const image of images.slice(0, 4)) details.push(await call(srv, 'getImage', { imageId: image.id }));
  return { dataset, images: details.map((d) => ({ ...d, rgbFile: join(dataset.root, d.rgbPath), labelFile: d.labelPath && join(dataset.root, d.labelPath) })) };
}

async function labelledImage(srv) {
  const { images } = await demoImages(srv);
  return images.find((i) => i.labelFile) ?? fail('The demo project has no image with ground truth.');
}

// PNG making (fast-png for ordinary files; by hand for a small file that declares a huge size).

function pngChunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}
/** A valid grey PNG of zeros, its rows deflated as a stream (16000x16000 is about 250 KB, made in little memory). */
async function zeroPng(width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  const rowsPerBlock = Math.max(1, Math.floor((4 << 20) / (width + 1)));
  const block = Buffer.alloc(rowsPerBlock * (width + 1));
  const deflate = createDeflate({ level: 9 });
  const parts = [];
  deflate.on('data', (p) => parts.push(p));
  const ended = once(deflate, 'end');
  let rows = 0;
  for (; rows + rowsPerBlock <= height; rows += rowsPerBlock) if (!deflate.write(block)) await once(deflate, 'drain');
  deflate.end(block.subarray(0, (height - rows) * (width + 1)));
  await ended;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.concat(parts)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Replaces an image's ground truth with `bytes` (or a folder, or a link) and asks for its overlay. */
async function labelAnswer(srv, replace) {
  const image = await labelledImage(srv);
  rmSync(image.labelFile, { recursive: true, force: true });
  await replace(image.labelFile, image);
  const started = Date.now();
  const res = await http(srv, `/api/image/${image.id}/label`);
  return { res, ms: Date.now() - started, image };
}

/** Encodes a stroke delta in the compact layout (shared/labelDelta.ts, version 2) for one run of one class. */
function fillDelta(pixels, classId) {
  const varint = (v) => {
    const out = [];
    while (v >= 128) {
      out.push((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  };
  return Buffer.from([0x4c, 0x44, 0x02, 0, ...varint(1), ...varint(0), ...varint(pixels), 1, classId, ...varint(pixels), 1, 1, ...varint(pixels)]).toString('base64');
}

/** Wrong inputs any method must refuse with a sentence. */
function hostileInputs(method) {
  const wrongTypes = {
    imageId: 'one', datasetId: -1, roundId: 1.5, regionId: {}, jobId: 12, folder: 42, outDir: ['x'], delta: 7, state: 'maybe',
    baseRevision: 'zero', tool: 'chainsaw', classId: 19, ms: -1, which: 'all', format: 'gif', role: 'both',
  };
  return [
    ['null input', null],
    ['an array as input', [1, 2, 3]],
    ['a number as input', 42],
    ['a string as input', 'input'],
    ['fields of the wrong types', wrongTypes],
    ['a 2 MB string field', { [method === 'importDataset' ? 'folder' : 'name']: 'x'.repeat(2 * 1024 * 1024) }],
    ['a prototype key', JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}')],
    ['huge and non-finite-looking numbers', { imageId: 1e308, datasetId: 2 ** 60, roundId: -0, baseRevision: 1e21 }],
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Cases

const wsEnvelopeCases = [
  ['the message null', 'null'],
  ['an array message', '[{"id": 1, "method": "listDatasets"}]'],
  ['a number message', '42'],
  ['a string message', '"listDatasets"'],
  ['text that is not JSON', '{"id": 1, "method": '],
  ['an unknown method', '{"id": 1, "method": "deleteEverything", "input": {}}'],
  ['a method that is an object', '{"id": 1, "method": {"toString": "listDatasets"}, "input": {}}'],
  ['a prototype key as method', '{"id": 1, "method": "__proto__", "input": {}}'],
  ['an id that is not a number', '{"id": {"x": 1}, "method": "listDatasets", "input": {}}'],
  ['deeply nested JSON', `${'['.repeat(5000)}${']'.repeat(5000)}`],
].map(([what, text]) => ({
  name: `WebSocket: ${what} is answered with a sentence`,
  group: 'server',
  run: (ctx) =>
    withServer(ctx, async (srv) => {
      const ws = await openWs(srv);
      try {
        const reply = await answerTo(ws, text);
        if (what === 'an id that is not a number' && reply.ok) return; // harmless: answered under id -1
        expectRefused(reply, what);
      } finally {
        ws.close();
      }
    }),
}));

const methodCases = METHODS.map((method) => ({
  name: `WebSocket: ${method} with null, arrays, wrong types, huge strings and prototype keys as input`,
  group: 'server',
  run: (ctx) =>
    withServer(ctx, async (srv) => {
      const ws = await openWs(srv);
      try {
        for (const [what, input] of hostileInputs(method)) {
          const reply = await answerTo(ws, JSON.stringify({ id: 7, method, input }));
          if (reply.ok && (EMPTY_OK.has(method) && (input === null || what === 'a prototype key'))) continue;
          expectRefused(reply, `${method} with ${what}`);
        }
        if (({}).polluted !== undefined) fail(`${method}: a prototype key in the input reached Object.prototype.`);
      } finally {
        ws.close();
      }
    }),
}));

const frameCases = [
  ['a binary frame of random bytes', () => frame(0x2, randomBytes(512)), 'answer'],
  ['invalid UTF-8 in a text frame', () => frame(0x1, Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d]))],
  ['an unmasked client frame', () => frame(0x1, Buffer.from('{}'), { masked: false })],
  ['a reserved opcode', () => frame(0x3, Buffer.from('{}'))],
  ['a frame declaring 2^40 bytes', () => Buffer.concat([Buffer.from([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0]), Buffer.alloc(4)])],
  ['a continuation frame with nothing to continue', () => frame(0x0, Buffer.from('{}'))],
  ['a fragmented control frame', () => frame(0x9, Buffer.from('ping'), { fin: false })],
  ['a close frame with an invalid code', () => frame(0x8, Buffer.from([0x03, 0xe7]))],
  ['a frame cut off mid-payload', () => frame(0x1, Buffer.from('{"id": 1, "method": "listDatasets"}')).subarray(0, 12), 'cut'],
].map(([what, make, kind]) => ({
  name: `WebSocket protocol: ${what} ends that socket only`,
  group: 'server',
  run: (ctx) =>
    withServer(ctx, async (srv) => {
      if (kind === 'answer') {
        const ws = await handWs(srv);
        ws.write(make());
        const { frames } = await ws.frames(1500);
        const text = frames.find((f) => f.opcode === 1)?.text;
        if (!text) fail(`${what}: no answer.`);
        expectRefused(JSON.parse(text), what);
        return;
      }
      if (kind === 'cut') {
        const ws = await handWs(srv);
        ws.write(make());
        ws.end();
        return;
      }
      await expectSocketClosedOn(srv, make(), what);
    }),
}));

const strokeCases = [
  {
    name: 'WebSocket: a 3 MB applyStroke message (over the old 1 MiB limit) is answered, not fatal',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const { images } = await demoImages(srv);
        const reply = await rpc(srv, 'applyStroke', {
          imageId: images[0].id, baseRevision: 0, baseRoundId: null, tool: 'fill', classId: 1, delta: 'A'.repeat(3 * 1024 * 1024), ms: 1,
        });
        expectRefused(reply, 'a 3 MB stroke that is not a delta');
        if (!/stroke could not be read/.test(reply.error)) fail(`The refusal does not say the stroke could not be read: ${reply.error}`);
      }),
  },
  {
    name: 'WebSocket: a whole-image fill saves, undoes and redoes',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const { images } = await demoImages(srv);
        const image = images[0];
        const pixels = image.width * image.height;
        const state = await call(srv, 'applyStroke', { imageId: image.id, baseRevision: 0, baseRoundId: null, tool: 'fill', classId: 10, delta: fillDelta(pixels, 10), ms: 5 });
        if (state.humanPixels !== pixels) fail(`The fill saved ${state.humanPixels} human pixels, not ${pixels}.`);
        const undone = await call(srv, 'undoStroke', { imageId: image.id, baseRevision: state.revision });
        const redone = await call(srv, 'redoStroke', { imageId: image.id, baseRevision: undone.state.revision });
        if (redone.state.humanPixels !== pixels) fail('The redone fill does not cover the image.');
        const labels = await http(srv, `/api/image/${image.id}/correction/labels`);
        if (labels.status !== 200 || labels.body.length !== pixels || labels.body.some((v) => v !== 10)) fail('The stored labels are not the fill.');
      }),
  },
  {
    name: 'WebSocket: a message over the contract limit closes that socket only (1009)',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const ws = await openWs(srv);
        const reply = await answerTo(ws, JSON.stringify({ id: 1, method: 'applyStroke', input: { delta: 'A'.repeat(MAX_WS_MESSAGE_BYTES) } }), 60_000);
        if (!reply.closed) fail(`A message over the limit was not refused by closing the socket: ${JSON.stringify(reply).slice(0, 200)}`);
        if (reply.closed !== 1009) fail(`The socket closed with ${reply.closed}, not 1009 (message too big).`);
      }),
  },
  {
    name: 'WebSocket: a stroke with a lying run count is refused without allocating for the lie',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const { images } = await demoImages(srv);
        for (const bytes of [
          [0x4c, 0x44, 0x02, 0, 0xff, 0xff, 0xff, 0xff, 0x0f],
          [0x4c, 0x44, 0x01, 0, 0xff, 0xff, 0xff, 0xff],
          [0x4c, 0x44, 0x02, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
          [0x4c, 0x44, 0x09],
        ]) {
          const reply = await rpc(srv, 'applyStroke', {
            imageId: images[0].id, baseRevision: 0, baseRoundId: null, tool: 'brush', classId: 1, delta: Buffer.from(bytes).toString('base64'), ms: 1,
          });
          expectRefused(reply, `the delta ${Buffer.from(bytes).toString('hex')}`);
        }
      }),
  },
  {
    name: 'WebSocket: fifty sockets dropped mid-request leave the server serving',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const ws = await openWs(srv);
            ws.send(JSON.stringify({ id: 1, method: 'listImages', input: { datasetId: 1 } }));
            ws.terminate();
          }),
        );
        await call(srv, 'listDatasets', {});
      }),
  },
];

const hostCases = [
  ['evil.example', 421],
  ['rebound.example:PORT', 421],
  ['127.0.0.1:OTHER', 421],
  ['localhost.evil.example:PORT', 421],
  ['127.0.0.1', 421],
].map(([host, status]) => ({
  name: `HTTP: Host "${host}" is refused with ${status}`,
  group: 'server',
  run: (ctx) =>
    withServer(ctx, async (srv) => {
      const value = host.replace('OTHER', String(srv.port + 1)).replace('PORT', String(srv.port));
      expectStatus(await http(srv, '/', { host: value }), status, `Host ${value}`);
    }),
}));

const moreCases = [
  {
    name: 'HTTP: a request without a Host header is refused with 421',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const answer = await rawTcp(srv, `GET /?token=${srv.token} HTTP/1.0\r\n\r\n`);
        if (!/^HTTP\/1\.1 (421|400)/.test(answer)) fail(`No Host header: answered ${answer.split('\r\n')[0] || 'nothing'}.`);
      }),
  },
  {
    name: 'WebSocket: an upgrade with a foreign Host is refused with 403, one with a foreign Origin with 401',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const host = await handWs(srv, { host: `rebound.example:${srv.port}` });
        if (host.status !== 403) fail(`A foreign Host on the upgrade got ${host.status}, not 403.`);
        checkSentence(host.body, 'foreign Host on the upgrade');
        const origin = await handWs(srv, { origin: 'http://evil.example' });
        if (origin.status !== 401) fail(`A foreign Origin on the upgrade got ${origin.status}, not 401.`);
      }),
  },
  ...[
    ['/%E0%A4%A', 400],
    ['/%', 400],
    ['/%zz/index.html', 400],
    ['/%C0%AF', 400],
  ].map(([path, status]) => ({
    name: `HTTP: the malformed URL ${path} answers ${status}`,
    group: 'server',
    run: (ctx) => withServer(ctx, async (srv) => void expectStatus(await http(srv, path), status, path)),
  })),
  ...[
    '/..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/..%5c..%5c..%5cetc%5cpasswd',
    '/index.html%00.png',
    '/api/image/1/..%2f..%2f..%2fetc%2fpasswd',
    '/api/image/1/rgb/../../../../etc/passwd',
    '/api/image/-1/rgb',
    '/api/image/99999999999999999999/rgb',
    '/api/image/1/round/1/raw/../../../../etc/passwd',
  ].map((path) => ({
    name: `HTTP: the traversal attempt ${path} reveals nothing`,
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const res = await http(srv, path);
        const body = res.body.toString('utf8');
        if (/root:.*:0:0:/.test(body)) fail(`${path} served /etc/passwd.`);
        if (res.status === 200 && !/^<!doctype html>/i.test(body)) fail(`${path} answered 200 with something that is not the app.`);
        if (res.status !== 200) checkSentence(body, path);
      }),
  })),
  {
    name: 'HTTP: an absolute-form request target and a protocol-relative path answer 400',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        expectStatus(await http(srv, 'http://evil.example/'), 400, 'absolute-form target');
        expectStatus(await http(srv, '//evil.example/index.html'), 400, 'protocol-relative path');
      }),
  },
  {
    name: 'HTTP: garbage instead of a request line gets 400 and the server goes on',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const answer = await rawTcp(srv, 'GARBAGE \x00\x01\x02\r\n\r\n');
        if (answer && !/^HTTP\/1\.1 400/.test(answer)) fail(`Garbage got ${answer.split('\r\n')[0]}.`);
        await rawTcp(srv, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Length: 99999999\r\n\r\npartial`, 500);
      }),
  },
  {
    name: 'HTTP: a cookie with a malformed escape answers 401, not 500',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        expectStatus(await http(srv, '/', { auth: false, headers: { cookie: `corda_token_${srv.port}=%E0%A4%A; corda_token=%zz` } }), 401, 'malformed cookie');
      }),
  },
  {
    name: 'HTTP: the page sends Referrer-Policy no-referrer and a per-port HttpOnly cookie',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const res = await http(srv, `/?token=${srv.token}`, { auth: false });
        if (res.headers['referrer-policy'] !== 'no-referrer') fail('The page has no Referrer-Policy: no-referrer.');
        const cookie = String(res.headers['set-cookie'] ?? '');
        if (!cookie.startsWith(`corda_token_${srv.port}=`) || !/HttpOnly/.test(cookie) || !/SameSite=Strict/.test(cookie)) fail(`The cookie is not per port, HttpOnly and SameSite=Strict: ${cookie}`);
      }),
  },
  {
    name: 'Files: an image that became a folder after import answers 404 with a sentence',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const { images } = await demoImages(srv);
        rmSync(images[0].rgbFile, { force: true });
        mkdirSync(images[0].rgbFile);
        expectStatus(await http(srv, `/api/image/${images[0].id}/rgb`), 404, 'an image turned into a folder');
        await http(srv, `/api/image/${images[0].id}/thumb`);
      }),
  },
  {
    name: 'Files: an image that became unreadable or vanished after import answers 404 with a sentence',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const { images } = await demoImages(srv);
        chmodSync(images[0].rgbFile, 0o000); // root reads it anyway: then the answer is 200, which is fine
        const locked = await http(srv, `/api/image/${images[0].id}/rgb`);
        if (locked.status !== 200) expectStatus(locked, 404, 'an unreadable image');
        rmSync(images[1].rgbFile);
        expectStatus(await http(srv, `/api/image/${images[1].id}/rgb`), 404, 'a vanished image');
        expectStatus(await http(srv, `/api/image/${images[1].id}/thumb`), 404, 'the thumbnail of a vanished image');
      }),
  },
  {
    name: 'Files: an image replaced by a link out of its dataset answers 404',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const { images } = await demoImages(srv);
        rmSync(images[0].rgbFile);
        symlinkSync('/etc/passwd', images[0].rgbFile);
        const res = await http(srv, `/api/image/${images[0].id}/rgb`);
        if (/root:/.test(res.body.toString('utf8'))) fail('A link out of the dataset was followed.');
        expectStatus(res, 404, 'an image linked out of its dataset');
      }),
  },
  {
    name: 'Labels: a 250 KB PNG declaring 16000x16000 is refused at once, and other requests are answered meanwhile',
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const huge = await zeroPng(16000, 16000);
        const image = await labelledImage(srv);
        writeFileSync(image.labelFile, huge);
        const started = Date.now();
        const [overlay, list] = await Promise.all([http(srv, `/api/image/${image.id}/label`), call(srv, 'listDatasets', {}).then(() => Date.now() - started)]);
        const body = expectStatus(overlay, 404, 'a label declaring 16000x16000');
        if (!/16000x16000/.test(body)) fail(`The refusal does not name the declared size: ${body}`);
        if (Date.now() - started > 3000) fail(`Refusing the huge label took ${Date.now() - started} ms.`);
        if (list > 2000) fail(`Another request waited ${list} ms behind the huge label.`);
      }),
  },
  ...[
    // Varied ids, so that the image data is most of the file and half of it cuts the image data short.
    ['truncated', async (file, image) => {
      const png = encode({ width: image.width, height: image.height, channels: 1, depth: 8, data: Uint8Array.from({ length: image.width * image.height }, (_, i) => (i * 7919) % 19) });
      writeFileSync(file, png.subarray(0, Math.floor(png.length / 2)));
    }, 404],
    ['random bytes after a PNG signature', async (file) => writeFileSync(file, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(4096)])), 404],
    ['not a PNG at all', async (file) => writeFileSync(file, 'these are not the pixels you are looking for'), 404],
    ['an empty file', async (file) => writeFileSync(file, ''), 404],
    ['a folder', async (file) => mkdirSync(file), 404],
    ['a link out of the dataset', async (file) => symlinkSync('/etc/hostname', file), 404],
    ['a 16-bit PNG', async (file, image) => writeFileSync(file, encode({ width: image.width, height: image.height, channels: 1, depth: 16, data: new Uint16Array(image.width * image.height).fill(7) })), 200],
    ['a 4-bit palette PNG', async (file, image) => {
      const row = Math.ceil(image.width / 2);
      writeFileSync(file, encode({ width: image.width, height: image.height, channels: 1, depth: 4, data: new Uint8Array(row * image.height).fill(0x78), palette: Array.from({ length: 16 }, (_, i) => [i * 16, i * 16, i * 16]) }));
    }, 200],
    ['an 8-bit palette PNG', async (file, image) => writeFileSync(file, encode({ width: image.width, height: image.height, channels: 1, depth: 8, data: new Uint8Array(image.width * image.height).fill(26), palette: Array.from({ length: 256 }, (_, i) => [i, i, i]) })), 200],
    ['an RGBA PNG of another size', async (file) => writeFileSync(file, encode({ width: 33, height: 17, channels: 4, depth: 8, data: new Uint8Array(33 * 17 * 4).fill(7) })), 200],
  ].map(([what, replace, status]) => ({
    name: `Labels: a ground truth that is ${what} answers ${status}`,
    group: 'server',
    run: (ctx) =>
      withServer(ctx, async (srv) => {
        const { res } = await labelAnswer(srv, replace);
        if (status === 200) {
          if (res.status !== 200 || res.headers['content-type'] !== 'image/png') fail(`${what}: answered ${res.status}, not a PNG overlay (${res.body.toString('utf8').slice(0, 160)}).`);
        } else expectStatus(res, status, `a ground truth that is ${what}`);
      }),
  })),
];

// The fast part (`npm test`): the crashes the issue named first, one case each.
const FAST = [/whole-image fill saves/, /3 MB applyStroke/, /the message null/, /became a folder after import/, /16000x16000/];
export const cases = [...wsEnvelopeCases, ...frameCases, ...strokeCases, ...methodCases, ...hostCases, ...moreCases].map((c) =>
  FAST.some((re) => re.test(c.name)) ? { ...c, fast: true } : c,
);
