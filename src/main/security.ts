// Window security per ARCHITECTURE.md: isolated, sandboxed renderer without Node; no navigation away from the
// app, no new windows, no webviews.
import type { WebContents, WebPreferences } from 'electron';

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

export function hardenWindow(contents: ContentsLike, isTrustedUrl: (url: string) => boolean): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!isTrustedUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
