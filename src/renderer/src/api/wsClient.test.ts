import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { MAX_WS_MESSAGE_BYTES, type EventMessage } from '../../../shared/api';
import { CLOSED, TOO_LARGE, createWsApi, reconnectDelay, type ConnectionState, type SocketLike } from './wsClient';

describe('reconnect backoff', () => {
  it('starts at 0.5 s, doubles, and stays at 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(reconnectDelay)).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });
});

/** A stand-in for the workbench server: answers listDatasets, never answers getAppInfo, greets with an event. */
function fakeServer(port: number): Promise<WebSocketServer> {
  return new Promise((resolve) => {
    const wss: WebSocketServer = new WebSocketServer({ port, host: '127.0.0.1' }, () => resolve(wss));
    wss.on('connection', (ws: WebSocket) => {
      ws.send(JSON.stringify({ event: 'datasetsChanged', payload: {} }));
      ws.on('message', (raw: WebSocket.RawData) => {
        const { id, method } = JSON.parse(String(raw)) as { id: number; method: string };
        if (method === 'listDatasets') ws.send(JSON.stringify({ id, ok: true, result: [] }));
      });
    });
  });
}

function stopServer(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the web-mode client', () => {
  it('fails calls while the server is gone, reconnects to it on the same address, and keeps its event listeners', async () => {
    let wss = await fakeServer(0);
    const { port } = wss.address() as { port: number };
    const delays: number[] = [];
    const connection = await createWsApi(`ws://127.0.0.1:${port}`, (url) => new WebSocket(url) as unknown as SocketLike, {
      delay: (attempt) => {
        delays.push(attempt);
        return 20;
      },
    });
    try {
      const { api } = connection;
      const states: ConnectionState[] = [];
      connection.subscribe(() => states.push(connection.state()));
      let reconnects = 0;
      connection.onReconnect(() => reconnects++);
      const events: EventMessage[] = [];
      api.onEvent((message) => events.push(message));

      expect(connection.state()).toEqual({ connected: true, attempt: 0 });
      await expect(api.listDatasets({})).resolves.toEqual([]);
      const unanswered = api.getAppInfo({});

      await stopServer(wss);
      await expect(unanswered).rejects.toThrow(CLOSED);
      expect(connection.state().connected).toBe(false);
      await expect(api.listDatasets({})).rejects.toThrow(CLOSED);
      // Attempts keep failing and counting while nothing listens.
      await until(() => connection.state().attempt >= 3, 'three failed attempts');
      expect(reconnects).toBe(0);

      wss = await fakeServer(port);
      await until(() => reconnects === 1, 'the reconnect');
      expect(connection.state()).toEqual({ connected: true, attempt: 0 });
      await expect(api.listDatasets({})).resolves.toEqual([]);
      await until(() => events.length > 0, 'the new server’s event');
      expect(events[0]).toEqual({ event: 'datasetsChanged', payload: {} });
      expect(states[0]).toEqual({ connected: false, attempt: 1 });
      expect(states.at(-1)).toEqual({ connected: true, attempt: 0 });
      expect(delays.slice(0, 3)).toEqual([1, 2, 3]);
    } finally {
      connection.close();
      await stopServer(wss);
    }
  });

  it('rejects with a sentence when the first socket cannot be opened', async () => {
    const wss = await fakeServer(0);
    const { port } = wss.address() as { port: number };
    await stopServer(wss);
    await expect(createWsApi(`ws://127.0.0.1:${port}`, (url) => new WebSocket(url) as unknown as SocketLike)).rejects.toThrow(/Could not connect/);
  });

  it('refuses, with a sentence and without sending, a request over the contract limit, and stays connected', async () => {
    const wss = await fakeServer(0);
    const { port } = wss.address() as { port: number };
    const received: number[] = [];
    wss.on('connection', (ws: WebSocket) => ws.on('message', (raw: WebSocket.RawData) => received.push(String(raw).length)));
    const connection = await createWsApi(`ws://127.0.0.1:${port}`, (url) => new WebSocket(url) as unknown as SocketLike);
    try {
      const delta = 'A'.repeat(MAX_WS_MESSAGE_BYTES);
      await expect(
        connection.api.applyStroke({ imageId: 1, baseRevision: 0, baseRoundId: null, tool: 'fill', classId: 1, delta, ms: 1 }),
      ).rejects.toThrow(TOO_LARGE);
      await expect(connection.api.listDatasets({})).resolves.toEqual([]);
      expect(received.every((length) => length < 1000)).toBe(true);
      expect(connection.state().connected).toBe(true);
    } finally {
      connection.close();
      await stopServer(wss);
    }
  });
});
