// Web mode: serves the built renderer and the API contract over a WebSocket on 127.0.0.1. Every HTTP request
// and every socket must carry the random token (the CLI keeps one per project, see webToken.ts) (query `token`, the cookie set on first visit, or an
// `Authorization: Bearer` header); anything else gets 401. Only the loopback names of this port are accepted as
// Host (DNS rebinding), and no request or message, however malformed, may end the process: bad input gets one
// sentence and a status code, a bad socket is closed, the server goes on.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_WS_MESSAGE_BYTES, UserError, isMethodName, parseAssetPath } from '../shared/api';
import type { WsReply, WsRequest } from '../shared/wire';
import type { MethodName } from '../shared/api';
import type { Service } from '../core/service';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The cookie's name carries the port: cookies are shared by every port of a host, so two servers on one machine
 *  would otherwise overwrite each other's. */
export const cookieName = (port: number): string => `corda_token_${port}`;

/** Headers on every answer. */
const BASE_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' } as const;

export interface WebServerOptions {
  service: Service;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  port?: number;
  /** When `port` is taken, listen on a free port instead of failing. */
  portFallback?: boolean;
  host?: string;
  token?: string;
}

export interface RunningWebServer {
  url: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

function tokenFrom(req: IncomingMessage, url: URL, cookie: string): string | null {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) return fromQuery;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const found = req.headers.cookie?.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${cookie}=`));
  // The token is hex: a cookie value is compared as it is, never decoded (a malformed escape must not throw).
  return found ? found.slice(cookie.length + 1) : null;
}

/** The request's URL, or null when it cannot be parsed (the caller answers 400). Only origin-form paths count. */
function requestUrl(req: IncomingMessage): URL | null {
  const raw = req.url ?? '/';
  if (!raw.startsWith('/') || raw.startsWith('//')) return null;
  try {
    return new URL(raw, 'http://localhost');
  } catch {
    return null;
  }
}

function sameToken(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) {
    // Too late for a status: cut the answer short so the client sees it failed.
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...BASE_HEADERS });
  res.end(body);
}

/**
 * Streams a file. It is opened before anything is sent, so a file that vanished, became a folder or unreadable
 * since it was listed gets a 404 with `missing` as its sentence; an error while streaming ends the answer.
 */
async function sendFile(res: ServerResponse, path: string, type: string, headers: Record<string, string>, missing: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error('not a regular file');
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, ...BASE_HEADERS, ...headers });
  } catch {
    await handle?.close().catch(() => undefined);
    return send(res, 404, missing);
  }
  const stream = handle.createReadStream();
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

export function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const { service } = options;
  const token = options.token ?? randomBytes(24).toString('hex');
  const host = options.host ?? '127.0.0.1';
  const rendererDir = resolve(options.rendererDir);
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new UserError(`The renderer is not built (${rendererDir} has no index.html). Run \`npm run build\` first.`);
  }

  let cookie = cookieName(options.port ?? 0);
  /** Host headers this server answers to: the loopback names of its port (set once it listens). */
  let allowedHosts = new Set<string>();
  const hostOk = (req: IncomingMessage) => allowedHosts.has((req.headers.host ?? '').toLowerCase());
  const HOST_REFUSED = 'Misdirected request: this server answers only to 127.0.0.1 or localhost on its own port.';

  const handleHttp = async (req: IncomingMessage, res: ServerResponse) => {
    if (!hostOk(req)) return send(res, 421, HOST_REFUSED);
    const url = requestUrl(req);
    if (!url) return send(res, 400, 'Bad request: the URL could not be read.');
    if (!sameToken(tokenFrom(req, url, cookie), token)) return send(res, 401, 'Unauthorized: open the URL with the token that `corda serve` printed.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed.');

    if (url.pathname.startsWith('/api/image/')) {
      const request = parseAssetPath(url.pathname.slice('/api/'.length));
      if (!request) return send(res, 404, 'Unknown image asset.');
      try {
        const asset = await service.asset(request);
        if ('data' in asset) {
          // A correction changes with every stroke: never keep a copy of it.
          const cache = 'correction' in request ? 'no-store' : 'no-cache';
          res.writeHead(200, { 'Content-Type': asset.mime, 'Content-Length': asset.data.length, ...BASE_HEADERS, 'Cache-Control': cache });
          return res.end(asset.data);
        }
        return await sendFile(res, asset.path, asset.mime, { 'Cache-Control': 'private, max-age=3600' },
          `Image ${request.imageId}'s file can no longer be read (moved, replaced by a folder or not readable): import the dataset again.`);
      } catch (error) {
        return send(res, 404, error instanceof UserError ? error.message : `Image ${request.imageId}'s ${assetName(request)} could not be made.`);
      }
    }

    let relative: string;
    try {
      relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    } catch {
      return send(res, 400, 'Bad request: the URL has a malformed percent-encoding.');
    }
    const file = resolve(rendererDir, relative);
    if (!file.startsWith(rendererDir + sep) || relative.includes('\0') || !existsSync(file) || !statSync(file).isFile()) return send(res, 404, 'Not found.');
    const headers: Record<string, string> = { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache' };
    if (url.searchParams.has('token')) {
      headers['Set-Cookie'] = `${cookie}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    await sendFile(res, file, MIME[extname(file)] ?? 'application/octet-stream', headers, 'Not found.');
  };

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((error: unknown) => {
      console.error(`corda serve: ${req.method} ${req.url}: ${(error as Error)?.stack ?? String(error)}`);
      send(res, 500, 'Internal error: the server could not answer this request; it goes on serving others.');
    });
  });
  // A connection that breaks mid-request: answer what can be answered, never crash.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  wss.on('error', () => undefined);
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: string, sentence: string) => {
      const answer = `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(sentence)}\r\n\r\n${sentence}`;
      socket.end(answer, () => socket.destroy());
    };
    if (!hostOk(req)) return refuse('403 Forbidden', HOST_REFUSED);
    const url = requestUrl(req);
    if (!url) return refuse('400 Bad Request', 'Bad request: the URL could not be read.');
    const origin = req.headers.origin;
    // Browsers send the page's origin: only this server's own page may open a socket.
    const originOk = !origin || (origin.startsWith('http://') && allowedHosts.has(origin.slice('http://'.length).toLowerCase()));
    if (url.pathname !== '/api/ws' || !originOk || !sameToken(tokenFrom(req, url, cookie), token)) {
      return refuse('401 Unauthorized', 'Unauthorized: open the URL with the token that `corda serve` printed.');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const reply = (msg: WsReply) => {
      if (ws.readyState !== ws.OPEN) return;
      let text: string;
      try {
        text = JSON.stringify(msg);
      } catch {
        text = JSON.stringify({ id: 'id' in msg ? msg.id : -1, ok: false, error: 'Internal error: the answer could not be encoded.' });
      }
      ws.send(text, () => undefined);
    };
    const unsubscribe = service.onEvent((message) => reply(message));
    ws.on('close', unsubscribe);
    // A protocol error (a frame over the limit, invalid UTF-8, a malformed frame): `ws` closes this socket with
    // the matching code; the listener only keeps the error from ending the process.
    ws.on('error', () => undefined);
    ws.on('message', (raw, isBinary) => {
      const request = readRequest(raw, isBinary);
      if ('error' in request) return reply({ id: request.id, ok: false, error: request.error });
      const { id, method, input } = request;
      Promise.resolve()
        .then(() => service.call(method, input))
        .then(
          (result) => reply({ id, ok: true, result }),
          (error: unknown) =>
            reply({ id, ok: false, error: error instanceof UserError ? error.message : `Internal error: ${(error as Error)?.message ?? String(error)}` }),
        );
    });
  });

  const listen = (port: number) =>
    new Promise<void>((resolveListen, rejectListen) => {
      const failed = (error: Error) => rejectListen(error);
      server.once('error', failed);
      server.listen(port, host, () => {
        server.off('error', failed);
        resolveListen();
      });
    });

  const port = options.port ?? 0;
  return listen(port)
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      if (options.portFallback && port !== 0) return listen(0);
      throw new UserError(`Port ${port} is already in use: pass another with --port, or 0 for any free port.`);
    })
    .then(() => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      cookie = cookieName(port);
      allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host.includes(':') ? `[${host}]` : host}:${port}`.toLowerCase()]);
      return {
        url: `http://${host}:${port}/?token=${token}`,
        port,
        token,
        server,
        close: () =>
          new Promise<void>((done) => {
            for (const client of wss.clients) client.terminate();
            wss.close();
            server.close(() => done());
            server.closeAllConnections();
          }),
      };
    });
}

function assetName(request: NonNullable<ReturnType<typeof parseAssetPath>>): string {
  if ('variant' in request) return request.variant;
  if ('layer' in request) return `round ${request.roundId} ${request.layer}`;
  if ('raw' in request) return `round ${request.roundId} ${request.raw}`;
  return `correction ${request.correction}`;
}

/** Reads one socket message as a request envelope, or says in a sentence why it is not one. */
export function readRequest(raw: unknown, isBinary: boolean): (WsRequest & { method: MethodName }) | { id: number; error: string } {
  if (isBinary) return { id: -1, error: 'Binary messages are not part of the protocol: send one JSON object {id, method, input} per text message.' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch {
    return { id: -1, error: 'The message is not JSON: send one JSON object {id, method, input} per text message.' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { id: -1, error: 'The message must be a JSON object {id, method, input}.' };
  }
  const envelope = parsed as Record<string, unknown>;
  const id = typeof envelope.id === 'number' && Number.isSafeInteger(envelope.id) ? envelope.id : -1;
  if (!isMethodName(envelope.method)) {
    const name = typeof envelope.method === 'string' ? envelope.method.slice(0, 100) : String(typeof envelope.method);
    return { id, error: `Unknown method "${name}".` };
  }
  return { id, method: envelope.method, input: envelope.input };
}
