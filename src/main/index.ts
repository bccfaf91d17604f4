// Electron main process: one window, the image protocol and the IPC wiring of core/service.ts. Thin on purpose.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import { IMAGE_SCHEME, IPC_EVENT_CHANNEL } from '../shared/api';
import { createService, type Service } from '../core/service';
import { defaultProjectDir, ensureDemoProject } from '../core/project/defaultProject';
import { imageProtocolHandler } from './imageProtocol';
import { registerIpc } from './ipc';
import { hardenSession, hardenWindow, windowPreferences } from './security';

protocol.registerSchemesAsPrivileged([
  { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

process.env.CORDA_APP_ROOT ??= app.getAppPath();

let mainWindow: BrowserWindow | null = null;
let service: Service | null = null;

const rendererUrl = process.env.ELECTRON_RENDERER_URL ?? pathToFileURL(join(__dirname, '../renderer/index.html')).href;
const isTrustedUrl = (url: string) => url.startsWith(new URL('.', rendererUrl).href) || url === rendererUrl;

async function start(): Promise<void> {
  const projectDir = process.env.CORDA_PROJECT ?? defaultProjectDir();
  if (!process.env.CORDA_PROJECT) await ensureDemoProject(projectDir, (line) => console.log(line));

  service = createService({
    projectDir,
    transport: 'electron',
    pickFolder: async () => {
      const options = { title: 'Open dataset folder', properties: ['openDirectory' as const] };
      const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  });
  registerIpc(ipcMain, service, isTrustedUrl);
  protocol.handle(IMAGE_SCHEME, imageProtocolHandler(service));
  hardenSession(session.defaultSession);

  mainWindow = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'CorDA workbench',
    backgroundColor: '#16181d',
    icon: join(__dirname, '../../resources/icon.png'),
    show: false,
    webPreferences: windowPreferences(join(__dirname, '../preload/index.js')),
  });
  hardenWindow(mainWindow.webContents, isTrustedUrl);
  const unsubscribe = service.onEvent((message) => mainWindow?.webContents.send(IPC_EVENT_CHANNEL, message));
  mainWindow.on('closed', () => {
    unsubscribe();
    mainWindow = null;
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  await mainWindow.loadURL(rendererUrl);
}

app.on('web-contents-created', (_event, contents) => hardenWindow(contents, isTrustedUrl));

app.whenReady().then(start).catch((error: unknown) => {
  dialog.showErrorBox('CorDA workbench could not start', (error as Error).message);
  app.exit(1);
});

app.on('window-all-closed', () => {
  service?.close();
  service = null;
  app.quit();
});
