// Registers every contract method on ipcMain under the fixed channel prefix. Input is validated by
// service.call against the contract's schema; calls from any frame but our own window's are refused.
import { METHOD_NAMES, UserError, ipcChannel } from '../shared/api';
import type { IpcResult } from '../shared/channels';
import type { Service } from '../core/service';

export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame?: { url: string } | null }, input: unknown) => Promise<unknown>): void;
}

/** `isTrustedUrl` decides whether a call's sending frame is the app's own page. */
export function registerIpc(ipcMain: IpcMainLike, service: Service, isTrustedUrl: (url: string) => boolean): void {
  for (const name of METHOD_NAMES) {
    ipcMain.handle(ipcChannel(name), async (event, input): Promise<IpcResult> => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedUrl(url)) return { ok: false, error: 'Refused: the request did not come from the workbench window.' };
      try {
        return { ok: true, result: await service.call(name, input) };
      } catch (error) {
        return { ok: false, error: error instanceof UserError ? error.message : `Internal error: ${(error as Error).message}` };
      }
    });
  }
}

