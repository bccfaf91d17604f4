// React's view of the web-mode connection: its state for the banner, and a callback after each reconnect.
import { useEffect, useEffectEvent, useSyncExternalStore } from 'react';
import { connectionState, onReconnect, subscribeConnection } from './connect';
import type { ConnectionState } from './wsClient';

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(subscribeConnection, connectionState);
}

/** Runs `refresh` each time the connection is back (the server may have restarted: reload what came from it). */
export function useOnReconnect(refresh: () => void): void {
  const run = useEffectEvent(refresh);
  useEffect(() => onReconnect(() => run()), []);
}
