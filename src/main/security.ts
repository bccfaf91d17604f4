// Window security per ARCHITECTURE.md: isolated, sandboxed renderer without Node; no navigation away from the
// app (top-level, in frames, or by a server redirect), no new windows, no webviews, no permissions.
import type { Session, WebContents, WebPreferences } from 'electron';

export function windowPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  };
}

type ContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** A navigation event: the details object carries the URL (Electron ≥ 25); older signatures pass it second. */
type NavigationEvent = { preventDefault(): void; url?: string };

export function hardenWindow(contents: ContentsLike, isTrustedUrl: (url: string) => boolean): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const guard = (event: NavigationEvent, url?: string) => {
    const target = event.url ?? url ?? '';
    if (!isTrustedUrl(target)) event.preventDefault();
  };
  contents.on('will-navigate', (event, url) => guard(event, url));
  contents.on('will-redirect', (event, url) => guard(event, url));
  contents.on('will-frame-navigate', (event) => guard(event));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

type SessionLike = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>;

/** No permission is ever granted: requests (camera, notifications, …) are refused, and checks answer false. */
export function hardenSession(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
