// Web-mode transport: the same CordaApi over one WebSocket to the local server (token from the page URL).
import { METHOD_NAMES, type CordaApi, type EventMessage, type MethodName } from '../../../shared/api';
import type { WsReply } from '../../../shared/wire';

const CLOSED = 'The connection to the workbench server was closed. Restart `npm start` and reload the page.';

export function createWsApi(url: string): Promise<CordaApi> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    const listeners = new Set<(message: EventMessage) => void>();
    let nextId = 1;

    socket.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as WsReply;
      if ('event' in msg) {
        for (const listener of listeners) listener(msg as EventMessage);
        return;
      }
      const waiter = pending.get(msg.id);
      if (!waiter) return;
      pending.delete(msg.id);
      if (msg.ok) waiter.resolve(msg.result);
      else waiter.reject(new Error(msg.error));
    });
    socket.addEventListener('close', () => {
      for (const waiter of pending.values()) waiter.reject(new Error(CLOSED));
      pending.clear();
    });
    socket.addEventListener('error', () => reject(new Error('Could not connect to the workbench server: check that it is running and that the URL has its token.')));
    socket.addEventListener('open', () => {
      const api = {
        onEvent(listener: (message: EventMessage) => void) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      } as Partial<CordaApi>;
      for (const name of METHOD_NAMES) {
        const call = (input: unknown) =>
          new Promise((res, rej) => {
            if (socket.readyState !== WebSocket.OPEN) return rej(new Error(CLOSED));
            const id = nextId++;
            pending.set(id, { resolve: res, reject: rej });
            socket.send(JSON.stringify({ id, method: name satisfies MethodName, input: input ?? {} }));
          });
        (api as Record<string, unknown>)[name] = call;
      }
      resolve(api as CordaApi);
    });
  });
}
