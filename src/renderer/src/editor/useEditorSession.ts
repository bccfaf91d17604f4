// One editing session per image on the screen's canvas: created when the image opens (once the rounds are
// known, so it starts from the newest finished round), disposed when it closes. Tool settings carry over from
// image to image. The session reaches the project through the transport given here.
import { useEffect, useRef, useState, useSyncExternalStore, type RefObject } from 'react';
import type { CordaApi, ImageSummary } from '../../../shared/api';
import { correctionUrl, fetchBytes, imageUrl, onReconnect, roundRawUrl } from '../api/connect';
import { useOnReconnect } from '../api/useConnection';
import type { LabelCanvas } from '../canvas/labelCanvas';
import { EditorSession, type SessionSnapshot, type SessionTransport } from '../canvas/session';

const INITIAL_TOOLS = { tool: 'brush', classId: 0, brushSize: 12, protectedClasses: [] } as const;

type ToolSettings = Pick<SessionSnapshot, 'tool' | 'classId' | 'brushSize' | 'protectedClasses'>;

export function useEditorSession(
  api: CordaApi,
  canvas: LabelCanvas | null,
  /** The current session for the canvas's callbacks, which outlive any one session. */
  sessionRef: RefObject<EditorSession | null>,
  image: ImageSummary,
  latestRoundId: number | null,
  roundsKnown: boolean,
  editable: boolean,
) {
  const [session, setSession] = useState<EditorSession | null>(null);
  const toolSettings = useRef<ToolSettings>(INITIAL_TOOLS);

  useEffect(() => {
    if (!canvas || !roundsKnown) return;
    canvas.setImage({ width: image.width, height: image.height }, imageUrl(image.id, 'rgb'));
    canvas.setPlanes(null);
    const created = new EditorSession(transport(api), canvas, image, latestRoundId, editable, toolSettings.current);
    sessionRef.current = created;
    setSession(created);
    void created.load();
    return () => {
      toolSettings.current = created.snapshot();
      created.dispose();
      if (sessionRef.current === created) sessionRef.current = null;
    };
    // A new session per image; rounds finishing elsewhere do not reset an open edit.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [canvas, image.id, roundsKnown]);

  const snapshot = useSyncExternalStore(session?.subscribe ?? noSubscribe, session?.snapshot ?? nullSnapshot);

  // The canvas feeds the session's tool while the image can be edited.
  useEffect(() => {
    if (!canvas || !session) return;
    canvas.setTool(session.activeTool());
    canvas.setBrushSize(snapshot?.brushSize ?? 12);
  }, [canvas, session, editable, snapshot?.phase, snapshot?.tool, snapshot?.brushSize]);

  // Back from a lost connection (the server may have restarted): the stored correction may have moved on.
  useOnReconnect(() => void session?.refresh());

  return { session, snapshot };
}

function transport(api: CordaApi): SessionTransport {
  return {
    api,
    roundRaw: (imageId, roundId, raw, what) => fetchBytes(roundRawUrl(imageId, roundId, raw), what),
    correctionRaw: (imageId, raw, what) => fetchBytes(correctionUrl(imageId, raw), what),
    onReconnect,
  };
}

const noSubscribe = () => () => undefined;
const nullSnapshot = (): SessionSnapshot | null => null;
