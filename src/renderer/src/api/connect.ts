// Picks the transport: the preload's bridge in Electron, a WebSocket to the local server in web mode.
// The rest of the renderer only sees CordaApi and imageUrl().
import { IMAGE_SCHEME, assetPath, type CordaApi, type CorrectionRaw, type ImageVariant, type RoundLayer, type RoundRaw } from '../../../shared/api';
import { createWsApi, type ConnectionState, type WsConnection } from './wsClient';

declare global {
  interface Window {
    corda?: CordaApi;
  }
}

let webToken = '';
let connection: WsConnection | null = null;
const ALWAYS_CONNECTED: ConnectionState = { connected: true, attempt: 0 };

export async function connectApi(): Promise<CordaApi> {
  if (window.corda) return window.corda;
  const params = new URLSearchParams(window.location.search);
  webToken = params.get('token') ?? sessionStorage.getItem('corda-token') ?? '';
  sessionStorage.setItem('corda-token', webToken);
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  connection = await createWsApi(`${scheme}://${window.location.host}/api/ws?token=${encodeURIComponent(webToken)}`, (url) => new WebSocket(url));
  return connection.api;
}

// The connection to the server, for the banner and for code that refreshes server state after a reconnect.
// Electron's bridge never disconnects: there it is always connected and `onReconnect` never fires.

export function connectionState(): ConnectionState {
  return connection?.state() ?? ALWAYS_CONNECTED;
}

export function subscribeConnection(listener: () => void): () => void {
  return connection?.subscribe(listener) ?? (() => undefined);
}

/** Calls `listener` each time the web-mode socket is open again after it was lost. */
export function onReconnect(listener: () => void): () => void {
  return connection?.onReconnect(listener) ?? (() => undefined);
}

// In web mode the page itself was only served with the token, and that answer set the (HttpOnly, per-port)
// cookie: images go by the cookie, so the token never appears in image URLs (history, logs, copied links).
function assetUrl(path: string): string {
  if (window.corda) return `${IMAGE_SCHEME}://${path}`;
  return `/api/${path}`;
}

/** URL of an image asset by id; never a file path. */
export function imageUrl(imageId: number, variant: ImageVariant): string {
  return assetUrl(assetPath({ imageId, variant }));
}

/** URL of a round's layer for an image (prediction, confidence, difficulty, depth heads), rendered for display. */
export function layerUrl(imageId: number, roundId: number, layer: RoundLayer): string {
  return assetUrl(assetPath({ imageId, roundId, layer }));
}

/** URL of a raw editor buffer: a round's prediction / second choice / superpixels at the image's resolution. */
export function roundRawUrl(imageId: number, roundId: number, raw: RoundRaw): string {
  return assetUrl(assetPath({ imageId, roundId, raw }));
}

/** URL of an image's stored correction (labels or provenance), raw bytes at the image's resolution. */
export function correctionUrl(imageId: number, correction: CorrectionRaw): string {
  return assetUrl(assetPath({ imageId, correction }));
}

/** Fetches a raw buffer; a clear error names what could not be loaded. */
export async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) {
    const reason = (await response.text().catch(() => '')).trim();
    throw new Error(`Could not load the ${what}${reason ? `: ${reason}` : ''}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
