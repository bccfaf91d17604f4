// Web-mode transport: the same CordaApi over a WebSocket to the local server (token from the page URL).
// When the socket closes (the server stopped or restarted), calls waiting for a reply fail with a sentence,
// calls made meanwhile fail at once, and the socket is reopened with backoff for as long as the page is open.
// Event listeners live here, not on the server, so they keep working on the new socket; code that holds server
// state subscribes to `onReconnect` to refresh it (and the save queue to send what it kept at once).
import { MAX_WS_MESSAGE_BYTES, METHOD_NAMES, type CordaApi, type EventMessage, type MethodName } from '../../../shared/api';
import type { WsReply } from '../../../shared/wire';

export const CLOSED =
  'The connection to the workbench server was lost; reconnecting. Keep this window open: unsaved strokes are kept and saved when it is back.';
export const UNREACHABLE = 'Could not connect to the workbench server: check that it is running and that the URL has its token.';
export const TOO_LARGE = 'This request is larger than the workbench server accepts, so it was not sent; the change it carries is kept.';

/** Bytes of `text` in UTF-8, counted only when the length alone cannot settle that it is within `limit`. */
function withinLimit(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return true;
  if (text.length > limit) return false;
  return new TextEncoder().encode(text).length <= limit;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5000;

/** Milliseconds to wait before reconnect attempt `attempt` (1, 2, …): 0.5 s doubling up to 5 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempt - 1));
}

export interface ConnectionState {
  connected: boolean;
  /** While not connected: the reconnect attempt waited for or under way (1, 2, …); 0 while connected. */
  attempt: number;
}

/** What the client needs of a WebSocket: the browser's, or `ws`'s in tests. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: { data?: unknown }) => void): void;
}

export interface WsConnection {
  api: CordaApi;
  state(): ConnectionState;
  /** Called on every change of `state()`. */
  subscribe(listener: () => void): () => void;
  /** Called each time the socket is open again after it was lost. */
  onReconnect(listener: () => void): () => void;
  /** Closes the socket for good (tests); the page itself never does. */
  close(): void;
}

export interface WsOptions {
  /** Milliseconds before reconnect attempt n; `reconnectDelay` by default. */
  delay?: (attempt: number) => number;
}

const OPEN = 1;

/** Resolves once the first socket is open; rejects when it cannot be opened (the page shows why). */
export function createWsApi(url: string, openSocket: (url: string) => SocketLike, options: WsOptions = {}): Promise<WsConnection> {
  const delay = options.delay ?? reconnectDelay;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const eventListeners = new Set<(message: EventMessage) => void>();
  const stateListeners = new Set<() => void>();
  const reconnectListeners = new Set<() => void>();
  let nextId = 1;
  let socket: SocketLike | null = null;
  let state: ConnectionState = { connected: false, attempt: 0 };
  let everOpened = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const setState = (next: ConnectionState) => {
    state = next;
    for (const listener of [...stateListeners]) listener();
  };

  const api = {
    onEvent(listener: (message: EventMessage) => void) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
  } as Partial<CordaApi>;
  for (const name of METHOD_NAMES) {
    (api as Record<string, unknown>)[name] = (input: unknown) =>
      new Promise((resolve, reject) => {
        const open = socket;
        if (!state.connected || !open || open.readyState !== OPEN) return reject(new Error(CLOSED));
        const id = nextId++;
        const text = JSON.stringify({ id, method: name satisfies MethodName, input: input ?? {} });
        // The server closes a socket that sends more than the contract's limit: refuse here, with a sentence,
        // instead of losing the connection and sending the same message again after reconnecting.
        if (!withinLimit(text, MAX_WS_MESSAGE_BYTES)) return reject(new Error(TOO_LARGE));
        pending.set(id, { resolve, reject });
        open.send(text);
      });
  }

  const connection: WsConnection = {
    api: api as CordaApi,
    state: () => state,
    subscribe(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    },
  };

  return new Promise((resolveFirst, rejectFirst) => {
    const open = () => {
      timer = null;
      if (stopped) return;
      const current = openSocket(url);
      socket = current;
      let closed = false;
      current.addEventListener('open', () => {
        if (stopped) return current.close();
        const reconnected = everOpened;
        everOpened = true;
        setState({ connected: true, attempt: 0 });
        if (!reconnected) return resolveFirst(connection);
        for (const listener of [...reconnectListeners]) listener();
      });
      current.addEventListener('message', (event) => {
        let msg: WsReply;
        try {
          msg = JSON.parse(String(event.data)) as WsReply;
        } catch {
          return;
        }
        if (typeof msg !== 'object' || msg === null) return;
        if ('event' in msg) {
          for (const listener of [...eventListeners]) listener(msg as EventMessage);
          return;
        }
        const waiter = pending.get(msg.id);
        if (!waiter) return;
        pending.delete(msg.id);
        if (msg.ok) waiter.resolve(msg.result);
        else waiter.reject(new Error(msg.error));
      });
      const lost = () => {
        if (closed) return;
        closed = true;
        for (const waiter of pending.values()) waiter.reject(new Error(CLOSED));
        pending.clear();
        // The first socket never opened: no page to keep alive yet, so say why instead of retrying.
        if (!everOpened) return rejectFirst(new Error(UNREACHABLE));
        if (stopped) return setState({ connected: false, attempt: 0 });
        const attempt = state.attempt + 1;
        setState({ connected: false, attempt });
        timer = setTimeout(open, delay(attempt));
      };
      // A failed or broken socket fires 'error' then 'close': 'close' does the work ('error' is only heard, so
      // that `ws` in tests does not throw it).
      current.addEventListener('close', lost);
      current.addEventListener('error', () => undefined);
    };
    open();
  });
}
