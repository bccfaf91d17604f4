// Electron cannot launch on this machine, so this test loads the real main-process module and the preload
// with stand-ins for electron's objects and checks what they register and expose.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IMAGE_SCHEME, IPC_PREFIX, METHOD_NAMES } from '../shared/api';

type Handler = (event: { senderFrame: { url: string } | null }, input: unknown) => Promise<{ ok: boolean; result?: unknown; error?: string }>;

const fake = vi.hoisted(() => {
  const handlers = new Map<string, unknown>();
  const windows: { prefs: Record<string, unknown>; openHandler?: () => unknown; listeners: Map<string, (e: { preventDefault(): void; url?: string }, url?: string) => void>; loaded?: string }[] = [];
  const exposed = new Map<string, unknown>();
  const invoked: [string, unknown][] = [];
  let ready!: () => void;
  const whenReady = new Promise<void>((r) => (ready = r));
  const contents = () => {
    const listeners = new Map();
    const wc = {
      listeners,
      openHandler: undefined as undefined | (() => unknown),
      on(name: string, fn: unknown) { listeners.set(name, fn); },
      setWindowOpenHandler(fn: () => unknown) { wc.openHandler = fn; },
      send: () => undefined,
    };
    return wc;
  };
  return { handlers, windows, exposed, invoked, whenReady, ready: () => ready(), contents, schemes: [] as unknown[], protocols: new Map<string, unknown>(), permissions: new Map<string, unknown>() };
});

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = fake.contents();
    constructor(options: { webPreferences: Record<string, unknown> }) {
      const record = { prefs: options.webPreferences, listeners: this.webContents.listeners, get openHandler() { return wc.openHandler; }, loaded: undefined as string | undefined };
      const wc = this.webContents;
      fake.windows.push(record);
      this.loadURL = async (url: string) => { record.loaded = url; };
    }
    loadURL: (url: string) => Promise<void>;
    on() {}
    once() {}
    show() {}
  }
  return {
    app: { getAppPath: () => process.cwd(), whenReady: () => fake.whenReady, on: () => undefined, quit: () => undefined, exit: () => undefined },
    BrowserWindow,
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showErrorBox: () => undefined },
    ipcMain: { handle: (channel: string, fn: unknown) => fake.handlers.set(channel, fn) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => fake.schemes.push(...schemes),
      handle: (scheme: string, fn: unknown) => fake.protocols.set(scheme, fn),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (fn: unknown) => fake.permissions.set('request', fn),
        setPermissionCheckHandler: (fn: unknown) => fake.permissions.set('check', fn),
      },
    },
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => fake.exposed.set(key, value) },
    ipcRenderer: {
      invoke: async (channel: string, input: unknown) => {
        fake.invoked.push([channel, input]);
        return { ok: true, result: 'pong' };
      },
      on: () => undefined,
      removeListener: () => undefined,
    },
  };
});

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corda-main-'));
  process.env.CORDA_PROJECT = join(dir, 'project');
  const { openProjectDb } = await import('../core/store/db');
  openProjectDb(process.env.CORDA_PROJECT, { create: true }).close();
  await import('./index');
  fake.ready();
  await vi.waitFor(() => expect(fake.windows[0]?.loaded).toBeDefined(), { timeout: 10_000 });
});

afterAll(() => {
  delete process.env.CORDA_PROJECT;
  rmSync(dir, { recursive: true, force: true });
});

describe('Electron main process wiring', () => {
  it('registers exactly one IPC handler per contract method, under the fixed prefix', () => {
    expect([...fake.handlers.keys()].sort()).toEqual(METHOD_NAMES.map((m) => `${IPC_PREFIX}${m}`).sort());
  });

  it('validates input before running a method and refuses other frames', async () => {
    const trusted = { senderFrame: { url: fake.windows[0]!.loaded! } };
    const listImages = fake.handlers.get(`${IPC_PREFIX}listImages`) as Handler;
    expect(await listImages(trusted, { datasetId: -3 })).toMatchObject({ ok: false, error: expect.stringMatching(/Invalid input for listImages/) });
    expect(await listImages(trusted, { datasetId: 1, extra: true })).toMatchObject({ ok: false, error: expect.stringMatching(/Invalid input/) });
    const listDatasets = fake.handlers.get(`${IPC_PREFIX}listDatasets`) as Handler;
    expect(await listDatasets(trusted, {})).toEqual({ ok: true, result: [] });
    expect(await listDatasets({ senderFrame: { url: 'https://evil.example/' } }, {})).toMatchObject({ ok: false, error: expect.stringMatching(/Refused/) });
  });

  it('opens the window isolated, sandboxed and without Node', () => {
    expect(fake.windows[0]!.prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(String(fake.windows[0]!.prefs.preload)).toMatch(/preload[/\\]index\.js$/);
  });

  it('refuses new windows and navigation away from the app', () => {
    const win = fake.windows[0]!;
    expect(win.openHandler!()).toEqual({ action: 'deny' });
    const prevent = vi.fn();
    win.listeners.get('will-navigate')!({ preventDefault: prevent }, 'https://example.com/');
    expect(prevent).toHaveBeenCalled();
    // A server redirect and a navigation inside a frame are refused the same way; the app's own URL is not.
    for (const event of ['will-redirect', 'will-frame-navigate']) {
      const refused = vi.fn();
      win.listeners.get(event)!({ preventDefault: refused, url: 'https://evil.example/' });
      expect(refused, event).toHaveBeenCalled();
      const allowed = vi.fn();
      win.listeners.get(event)!({ preventDefault: allowed, url: win.loaded! });
      expect(allowed, event).not.toHaveBeenCalled();
    }
  });

  it('grants no permission, asked or checked', () => {
    const answers: boolean[] = [];
    (fake.permissions.get('request') as (wc: unknown, p: string, cb: (ok: boolean) => void) => void)(null, 'media', (ok) => answers.push(ok));
    expect(answers).toEqual([false]);
    expect((fake.permissions.get('check') as (wc: unknown, p: string) => boolean)(null, 'notifications')).toBe(false);
  });

  it('serves images through the privileged custom protocol by id', async () => {
    expect(fake.schemes).toEqual([expect.objectContaining({ scheme: IMAGE_SCHEME })]);
    const handler = fake.protocols.get(IMAGE_SCHEME) as (r: Request) => Promise<Response>;
    expect((await handler(new Request(`${IMAGE_SCHEME}://image/42/rgb`))).status).toBe(404);
    expect((await handler(new Request(`${IMAGE_SCHEME}://image/..%2f..%2fetc%2fpasswd/rgb`))).status).toBe(404);
  });
});

describe('preload', () => {
  it('exposes exactly the contract methods and an event subscription, never ipcRenderer', async () => {
    await import('../preload/index');
    const bridge = fake.exposed.get('corda') as Record<string, unknown>;
    expect([...fake.exposed.keys()]).toEqual(['corda']);
    expect(Object.keys(bridge).sort()).toEqual([...METHOD_NAMES, 'onEvent'].sort());
    expect(Object.values(bridge).every((v) => typeof v === 'function')).toBe(true);
    expect(await (bridge.listDatasets as (i: unknown) => Promise<unknown>)({})).toBe('pong');
    expect(fake.invoked).toEqual([[`${IPC_PREFIX}listDatasets`, {}]]);
  });
});
