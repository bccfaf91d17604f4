// Web mode: serves the built renderer and the API contract over a WebSocket on 127.0.0.1. Every HTTP request
// and every socket must carry the random token (the CLI keeps one per project, see webToken.ts) (query `token`, the cookie set on first visit, or an
// `Authorization: Bearer` header); anything else gets 401.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { UserError, isMethodName, parseAssetPath } from '../shared/api';
import type { WsReply, WsRequest } from '../shared/wire';
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

const COOKIE = 'corda_token';

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

function tokenFrom(req: IncomingMessage, url: URL): string | null {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) return fromQuery;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const cookie = req.headers.cookie?.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${COOKIE}=`));
  return cookie ? decodeURIComponent(cookie.slice(COOKIE.length + 1)) : null;
}

function sameToken(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

function sendFile(res: ServerResponse, path: string, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': statSync(path).size,
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  createReadStream(path).pipe(res);
}

export function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const { service } = options;
  const token = options.token ?? randomBytes(24).toString('hex');
  const host = options.host ?? '127.0.0.1';
  const rendererDir = resolve(options.rendererDir);
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new UserError(`The renderer is not built (${rendererDir} has no index.html). Run \`npm run build\` first.`);
  }

  const handleHttp = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!sameToken(tokenFrom(req, url), token)) return send(res, 401, 'Unauthorized: open the URL with the token that `corda serve` printed.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed.');

    if (url.pathname.startsWith('/api/image/')) {
      const request = parseAssetPath(url.pathname.slice('/api/'.length));
      if (!request) return send(res, 404, 'Unknown image asset.');
      try {
        const asset = await service.asset(request);
        if ('data' in asset) {
          // A correction changes with every stroke: never keep a copy of it.
          const cache = 'correction' in request ? 'no-store' : 'no-cache';
          res.writeHead(200, { 'Content-Type': asset.mime, 'Content-Length': asset.data.length, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': cache });
          return res.end(asset.data);
        }
        return sendFile(res, asset.path, asset.mime, { 'Cache-Control': 'private, max-age=3600' });
      } catch (error) {
        return send(res, 404, (error as Error).message);
      }
    }

    const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = resolve(rendererDir, relative);
    if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) return send(res, 404, 'Not found.');
    const headers: Record<string, string> = { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache' };
    if (url.searchParams.has('token')) {
      headers['Set-Cookie'] = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    }
    sendFile(res, file, MIME[extname(file)] ?? 'application/octet-stream', headers);
  };

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((error: unknown) => send(res, 500, (error as Error).message));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = req.headers.origin;
    const originOk = !origin || origin === `http://${req.headers.host}`;
    if (url.pathname !== '/api/ws' || !originOk || !sameToken(tokenFrom(req, url), token)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const reply = (msg: WsReply) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(msg));
    const unsubscribe = service.onEvent((message) => reply(message));
    ws.on('close', unsubscribe);
    ws.on('message', (raw) => {
      let request: WsRequest;
      try {
        request = JSON.parse(String(raw)) as WsRequest;
      } catch {
        return;
      }
      const id = typeof request.id === 'number' ? request.id : -1;
      if (!isMethodName(request.method)) return reply({ id, ok: false, error: `Unknown method "${String(request.method)}".` });
      service.call(request.method, request.input).then(
        (result) => reply({ id, ok: true, result }),
        (error: unknown) => reply({ id, ok: false, error: error instanceof UserError ? error.message : `Internal error: ${(error as Error).message}` }),
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
