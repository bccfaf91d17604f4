// Builds the object the preload exposes as `window.corda`: one function per contract method and one event
// subscription. It never hands out ipcRenderer itself.
import { IPC_EVENT_CHANNEL, METHOD_NAMES, ipcChannel, type IpcResult } from '../shared/channels';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export type Bridge = Record<(typeof METHOD_NAMES)[number], (input?: unknown) => Promise<unknown>> & {
  onEvent(listener: (message: unknown) => void): () => void;
};

export function buildBridge(ipc: IpcRendererLike): Bridge {
  const bridge: Record<string, unknown> = {};
  for (const name of METHOD_NAMES) {
    bridge[name] = async (input?: unknown) => {
      const reply = (await ipc.invoke(ipcChannel(name), input ?? {})) as IpcResult;
      if (!reply.ok) throw new Error(reply.error);
      return reply.result;
    };
  }
  bridge.onEvent = (listener: (message: unknown) => void) => {
    const forward = (_event: unknown, message: unknown) => listener(message);
    ipc.on(IPC_EVENT_CHANNEL, forward);
    return () => {
      ipc.removeListener(IPC_EVENT_CHANNEL, forward);
    };
  };
  return bridge as Bridge;
}
