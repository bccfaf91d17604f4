// Web-mode wire format over the WebSocket (one JSON object per message).
import type { EventMessage } from './api';

export interface WsRequest {
  id: number;
  method: string;
  input: unknown;
}

export type WsReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string } | EventMessage;
