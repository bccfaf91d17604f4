// One image at a time, on the Konva editor canvas: the RGB, read-only layers of the newest round (prediction,
// difficulty, confidence, depth heads), the pseudo depth and ground truth, and the correction a person edits
// with the tools. Next / previous, zoom about the cursor, pan, the region queue and the budget meter.
import { useCallback, useEffect, useEffectEvent, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { TRAINING_SPLIT, type Budget, type ImageSummary, type Region, type RegionStats, type RoundLayer, type RoundSummary } from '../../../shared/api';
import { IGNORE, TRAIN_CLASSES } from '../../../shared/labels';
import { errorMessage, useApi } from '../ApiContext';
import { imageUrl, layerUrl } from '../api/connect';
import { useOnReconnect } from '../api/useConnection';
import { ClassPalette } from '../editor/ClassPalette';
import { CompareStrip } from '../editor/CompareStrip';
import { keyAction } from '../editor/keymap';
import { LabelCanvas, type OverlaySpec } from '../editor/labelCanvas';
import { LayersPanel, type LayerRow, type LayerSetting } from '../editor/LayersPanel';
import { RegionQueue } from '../editor/RegionQueue';
import { EditorSession, type SessionSnapshot } from '../editor/session';
import { ToolBar } from '../editor/ToolBar';
import { formatZoom, zoomAbout, type View } from './zoomPan';

interface ImageViewProps {
  /** The current filtered order; next / previous walk through it. */
  images: ImageSummary[];
  index: number;
  /** Corrections are made on target images only. */
  editable: boolean;
  onNavigate: (imageId: number) => void;
  onClose: () => void;
  /** The region queue's current region; kept by the parent because it outlives a jump to another image. */
  region: Region | null;
  onRegion: (region: Region | null) => void;
}

const ROUND_LAYERS: { id: RoundLayer; label: string }[] = [
  { id: 'prediction', label: 'Prediction' },
  { id: 'difficulty', label: 'Difficulty' },
  { id: 'confidence', label: 'Confidence' },
  { id: 'depth_src', label: 'Depth (source head)' },
  { id: 'depth_tgt', label: 'Depth (target head)' },
];

const DEFAULT_LAYERS: Record<string, LayerSetting> = {
  prediction: { visible: false, opacity: 0.6 },
  difficulty: { visible: false, opacity: 0.6 },
  confidence: { visible: false, opacity: 0.6 },
  depth_src: { visible: false, opacity: 0.8 },
  depth_tgt: { visible: false, opacity: 0.8 },
  depth: { visible: false, opacity: 0.8 },
  gt: { visible: true, opacity: 0.5 },
  correction: { visible: true, opacity: 0.5 },
  human: { visible: false, opacity: 1 },
};

const INITIAL_TOOLS = { tool: 'brush', classId: 0, brushSize: 12, protectedClasses: [] } as const;

export function ImageView({ images, index, editable, onNavigate, onClose, region, onRegion: setRegion }: ImageViewProps) {
  const api = useApi();
  const image = images[index]!;
  const viewportRef = useRef<HTMLDivElement>(null);
  const hoverRef = useRef<HTMLSpanElement>(null);
  const [canvas, setCanvas] = useState<LabelCanvas | null>(null);
  const sessionRef = useRef<EditorSession | null>(null);
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });
  /** null until the project's rounds are known: the editor starts from the newest finished round. */
  const [rounds, setRounds] = useState<RoundSummary[] | null>(null);
  const [layers, setLayers] = useState<Record<string, LayerSetting>>(DEFAULT_LAYERS);
  const [peek, setPeek] = useState(false);
  const [compare, setCompare] = useState(false);
  const [budget, setBudget] = useState<Budget | null>(null);
  const [regionMessage, setRegionMessage] = useState<string | null>(null);
  const [regionBusy, setRegionBusy] = useState(false);
  const [regionStats, setRegionStats] = useState<RegionStats | null>(null);
  /** Strokes stay inside the queued region's superpixel while it is on this image. */
  const [regionLock, setRegionLock] = useState(false);
  /** Tool settings carry over from image to image. */
  const toolSettings = useRef<Pick<SessionSnapshot, 'tool' | 'classId' | 'brushSize' | 'protectedClasses'>>(INITIAL_TOOLS);

  useEffect(() => {
    api.listRounds({}).then(setRounds, () => setRounds([]));
  }, [api]);

  const datasetRounds = (rounds ?? []).filter((r) => r.targetDatasetId === image.datasetId && r.status === 'done');
  const latestRoundId = datasetRounds.length ? Math.max(...datasetRounds.map((r) => r.id)) : null;
  const roundsKnown = rounds !== null;

  // The canvas lives as long as the view; sessions come and go with the image.
  useEffect(() => {
    const element = viewportRef.current!;
    const created = new LabelCanvas(element, {
      onView: setView,
      onHover: (point) => {
        const span = hoverRef.current;
        if (!span) return;
        const planes = sessionRef.current?.planes;
        if (!point || !planes) {
          span.textContent = '';
          return;
        }
        const i = Math.floor(point.y) * planes.width + Math.floor(point.x);
        const label = planes.labels[i]!;
        const name = label === IGNORE ? 'ignore' : (TRAIN_CLASSES[label]?.name ?? `class ${label}`);
        span.textContent = `${Math.floor(point.x)}, ${Math.floor(point.y)} · ${name}${planes.human[i] ? ' (edited)' : ''}`;
      },
      onToolChanged: () => sessionRef.current?.toolChanged(),
      onLayersLoaded: (ids) => viewportRef.current?.setAttribute('data-layers-loaded', ids.join(',')),
    });
    setCanvas(created);
    (window as unknown as { cordaEditorPerf?: () => unknown }).cordaEditorPerf = () => created.perf.summary();
    (window as unknown as { cordaEditorPerfReset?: () => void }).cordaEditorPerfReset = () => created.perf.reset();
    element.focus({ preventScroll: true });
    return () => created.destroy();
  }, []);

  const [session, setSession] = useState<EditorSession | null>(null);
  useEffect(() => {
    if (!canvas || !roundsKnown) return;
    canvas.setImage({ width: image.width, height: image.height }, imageUrl(image.id, 'rgb'));
    canvas.setPlanes(null);
    const created = new EditorSession(api, canvas, image, latestRoundId, editable, toolSettings.current);
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

  useEffect(() => {
    if (!canvas || !session) return;
    canvas.setTool(session.activeTool(), editable && snapshot?.phase === 'ready');
    canvas.setBrushSize(snapshot?.brushSize ?? 12);
  }, [canvas, session, editable, snapshot?.phase, snapshot?.tool, snapshot?.brushSize]);

  const overlays = useMemo<OverlaySpec[]>(() => {
    const list: OverlaySpec[] = [];
    const layer = (id: string, url: string) => list.push({ id, url, visible: layers[id]!.visible, opacity: layers[id]!.opacity });
    if (image.hasDepth) layer('depth', imageUrl(image.id, 'depth'));
    if (latestRoundId !== null) for (const l of ROUND_LAYERS) layer(l.id, layerUrl(image.id, latestRoundId, l.id));
    if (image.hasLabels) layer('gt', imageUrl(image.id, 'label'));
    return list;
  }, [image.id, image.hasDepth, image.hasLabels, latestRoundId, layers]);

  useEffect(() => canvas?.setOverlays(overlays), [canvas, overlays]);
  useEffect(() => {
    canvas?.setCorrectionStyle({ visible: layers.correction!.visible, opacity: layers.correction!.opacity, showHuman: layers.human!.visible, peek });
  }, [canvas, layers, peek, session]);

  const refreshBudget = useCallback(() => {
    api.getBudget({ datasetId: image.datasetId }).then(setBudget, () => setBudget(null));
  }, [api, image.datasetId]);
  const savedVersion = snapshot?.save?.state.version ?? 0;
  const pending = snapshot?.save?.pending ?? 0;
  useEffect(() => {
    if (pending === 0) refreshBudget();
  }, [refreshBudget, savedVersion, pending]);

  // Back from a lost connection (the server may have restarted): what came from it is fetched again.
  useOnReconnect(() => {
    api.listRounds({}).then(setRounds, () => undefined);
    refreshBudget();
    void session?.refresh();
  });

  // The queue's counts and times: the current region's round, else the newest; again after every jump or mark.
  useEffect(() => {
    let live = true;
    api.getRegionStats({ datasetId: image.datasetId, ...(region && { roundId: region.roundId }) }).then(
      (stats) => live && setRegionStats(stats),
      () => live && setRegionStats(null),
    );
    return () => {
      live = false;
    };
  }, [api, image.datasetId, region]);

  // The region outline follows the region's image; its shape shows once the editor holds that round's superpixels.
  const phase = snapshot?.phase;
  const baseRoundId = snapshot?.baseRoundId ?? null;
  useEffect(() => {
    if (!canvas) return;
    if (!region || region.imageId !== image.id) return canvas.showRegion(null, false);
    const superpixels = phase === 'ready' && baseRoundId === region.roundId ? session?.planes.superpixels : null;
    canvas.showRegion(region, true, superpixels ? { superpixels, width: image.width, id: region.superpixel } : null);
  }, [canvas, region, image.id, image.width, session, phase, baseRoundId]);

  // The lock applies where the editor holds the region's own superpixels: its image, started from its round.
  const lockApplies = region !== null && region.imageId === image.id && phase === 'ready' && baseRoundId === region.roundId && snapshot?.hasSuperpixels === true;
  const confinedTo = regionLock && lockApplies ? region.superpixel : null;
  useEffect(() => session?.confineTo(confinedTo), [session, confinedTo]);

  const unsavedWithError = pending > 0 && snapshot?.save?.error;
  function go(delta: number) {
    const next = images[Math.max(0, Math.min(images.length - 1, index + delta))];
    if (next && next.id !== image.id) leaveTo(next.id);
  }
  function leaveTo(imageId: number) {
    if (session?.snapshot().busy) return;
    if (unsavedWithError) return; // the status says why; the strokes must not be left behind unsaved
    onNavigate(imageId);
  }
  function close() {
    if (unsavedWithError || session?.snapshot().busy) return;
    onClose();
  }

  async function nextRegion(after?: number) {
    setRegionBusy(true);
    try {
      const found = await api.nextRegion({ datasetId: image.datasetId, ...(after !== undefined && { afterRegionId: after }) });
      setRegion(found);
      setRegionMessage(found ? null : latestRoundId ? `No open regions left on ${TRAINING_SPLIT} images in the newest round.` : 'Run a round first: regions come from its difficulty maps.');
      if (found && found.imageId !== image.id) leaveTo(found.imageId);
    } catch (error) {
      setRegionMessage(errorMessage(error));
    } finally {
      setRegionBusy(false);
    }
  }

  async function markRegion(state: 'done' | 'skipped', seconds: number | undefined) {
    if (!region) return;
    try {
      await api.setRegionState({ regionId: region.id, state, ...(seconds !== undefined && { seconds }) });
      await nextRegion(region.id);
    } catch (error) {
      setRegionMessage(errorMessage(error));
    }
  }

  const onKeyDown = useEffectEvent((event: KeyboardEvent) => {
    if (isTextEntry(event.target)) return;
    const action = keyAction({ key: event.key, code: event.code, ctrl: event.ctrlKey || event.metaKey, shift: event.shiftKey, alt: event.altKey });
    if (!action) return;
    const onSlider = event.target instanceof HTMLInputElement && event.target.type === 'range';
    if (onSlider && (action.kind === 'next' || action.kind === 'previous')) return;
    if (action.kind === 'pan' && isInteractive(event.target)) return;
    event.preventDefault();
    switch (action.kind) {
      case 'class':
        return session?.setClass(action.classId);
      case 'tool':
        return session?.setTool(action.tool);
      case 'brush':
        return session?.setBrushSize((snapshot?.brushSize ?? 12) * action.factor + (action.factor > 1 ? 1 : -1));
      case 'undo':
        return session?.undo();
      case 'redo':
        return session?.redo();
      case 'toolKey':
        if (session?.key(action.key)) return canvas?.drawPreview();
        if (action.key === 'Escape') close();
        return;
      case 'next':
        return go(1);
      case 'previous':
        return go(-1);
      case 'fit':
        return canvas?.fit();
      case 'actualSize':
        return canvas && canvas.setView(zoomAbout(view, 1 / view.scale, viewportCentre()));
      case 'zoom':
        return canvas && canvas.setView(zoomAbout(view, action.factor, viewportCentre()));
      case 'toggleCorrection':
        return setLayers((current) => ({ ...current, correction: { ...current.correction!, visible: !current.correction!.visible } }));
      case 'peek':
        return setPeek(true);
      case 'pan':
        return canvas?.setSpaceHeld(true);
      case 'nextRegion':
        return void nextRegion(region?.id);
      case 'regionLock':
        return setRegionLock((on) => !on);
    }
  });
  const onKeyUp = useEffectEvent((event: KeyboardEvent) => {
    if (event.key === ' ') canvas?.setSpaceHeld(false);
    if (event.key === 'h' || event.key === 'H') setPeek(false);
  });
  useEffect(() => {
    const down = (event: KeyboardEvent) => onKeyDown(event);
    const up = (event: KeyboardEvent) => onKeyUp(event);
    const blur = () => setPeek(false);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', blur);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('blur', blur);
    };
  }, []);

  function viewportCentre() {
    const element = viewportRef.current;
    return { x: (element?.clientWidth ?? 0) / 2, y: (element?.clientHeight ?? 0) / 2 };
  }

  // Warm the browser cache for the neighbours so next / previous feel instant.
  useEffect(() => {
    for (const neighbour of [images[index + 1], images[index - 1]]) if (neighbour) new Image().src = imageUrl(neighbour.id, 'rgb');
  }, [images, index]);

  const noRound = latestRoundId === null ? 'No finished round for this dataset yet' : undefined;
  const layerRows: LayerRow[] = [
    { id: 'correction', label: 'Correction', ...(!editable && { unavailable: 'Corrections are made on target images' }) },
    { id: 'human', label: 'Edited pixels', ...(!editable && { unavailable: 'Corrections are made on target images' }) },
    ...ROUND_LAYERS.map((l) => ({ id: l.id, label: l.label, ...(noRound && { unavailable: noRound }) })),
    { id: 'depth', label: 'Pseudo depth', ...(!image.hasDepth && { unavailable: 'This image has no depth' }) },
    { id: 'gt', label: 'Ground truth', ...(!image.hasLabels && { unavailable: 'This image has no ground truth' }) },
  ];

  const save = snapshot?.save ?? null;
  const saveText = !editable
    ? 'View only (not a target image)'
    : snapshot?.phase === 'loading'
      ? 'Loading…'
      : snapshot?.phase === 'failed'
        ? 'Could not load'
        : save?.error
          ? `Not saved: ${save.error}`
          : save && save.pending > 0
            ? 'Saving…'
            : 'All changes saved';

  return (
    <section className="image-view" data-testid="image-view" aria-label="Image view">
      <div className="toolbar image-view__toolbar">
        <button type="button" className="button" data-testid="image-view-close" title="Back to the grid (Esc)" onClick={close}>
          ← Grid
        </button>
        <div className="button-group">
          <button type="button" className="button" data-testid="image-prev" title="Previous image (← or A)" disabled={index === 0} onClick={() => go(-1)}>
            ‹
          </button>
          <button type="button" className="button" data-testid="image-next" title="Next image (→ or D)" disabled={index === images.length - 1} onClick={() => go(1)}>
            ›
          </button>
        </div>
        <h2 className="image-view__title" data-testid="image-title">
          <span className="image-view__position">
            {index + 1} / {images.length}
          </span>{' '}
          <span className="image-view__name">{image.name}</span>{' '}
          <span className="image-view__meta">
            {image.split} · {image.city} · {image.width}×{image.height}
          </span>
        </h2>
        <span className="toolbar__spacer" />
        <span className="hover-readout muted" ref={hoverRef} data-testid="hover-readout" />
        <div className="button-group" role="group" aria-label="Zoom">
          <button type="button" className="button" data-testid="zoom-out" title="Zoom out (−)" onClick={() => canvas?.setView(zoomAbout(view, 1 / 1.25, viewportCentre()))}>
            −
          </button>
          <span className="zoom-level" data-testid="zoom-level" aria-live="polite">
            {formatZoom(view.scale)}
          </span>
          <button type="button" className="button" data-testid="zoom-in" title="Zoom in (+)" onClick={() => canvas?.setView(zoomAbout(view, 1.25, viewportCentre()))}>
            +
          </button>
          <button type="button" className="button" data-testid="zoom-fit" title="Fit to window (F)" onClick={() => canvas?.fit()}>
            Fit
          </button>
          <button type="button" className="button" data-testid="zoom-actual" title="Actual size (Shift+F)" onClick={() => canvas?.setView(zoomAbout(view, 1 / view.scale, viewportCentre()))}>
            1:1
          </button>
        </div>
      </div>
      {editable && session && snapshot && (
        <ToolBar
          snapshot={snapshot}
          onTool={(tool) => session.setTool(tool)}
          onBrushSize={(size) => session.setBrushSize(size)}
          onUndo={() => session.undo()}
          onRedo={() => session.redo()}
          compare={compare}
          onCompare={setCompare}
        />
      )}
      <div className="image-view__body">
        <div className="image-view__main">
          <div
            ref={viewportRef}
            className="image-view__viewport"
            data-testid="image-viewport"
            data-image-id={image.id}
            data-view={`${view.scale},${view.x},${view.y}`}
            data-phase={snapshot?.phase ?? 'loading'}
            data-version={save?.state.version ?? 0}
            data-pending={save?.pending ?? 0}
            tabIndex={0}
          />
          {compare && session && snapshot?.phase === 'ready' && (
            <CompareStrip imageId={image.id} baseRoundId={snapshot.baseRoundId} latestRoundId={latestRoundId} planes={session.planes} version={save?.state.version ?? 0} />
          )}
        </div>
        <aside className="image-view__side">
          <div className={`save-status${save?.error ? ' save-status--error' : ''}`} data-testid="save-status" role={save?.error ? 'alert' : 'status'}>
            <span>{saveText}</span>
            {save?.error && (
              <span className="save-status__actions">
                <button type="button" className="button" onClick={() => session?.retrySave()}>
                  Retry now
                </button>
                <button type="button" className="button" title="Drop the unsaved strokes and load what the project has" onClick={() => void session?.reload()}>
                  Reload image
                </button>
              </span>
            )}
            {snapshot?.phase === 'failed' && <span className="save-status__error">{snapshot.error}</span>}
            {snapshot?.notice && <span className="save-status__notice" data-testid="editor-notice">{snapshot.notice}</span>}
            {save && editable && (
              <span className="muted" data-testid="correction-stats">
                {save.state.humanPixels.toLocaleString()} px edited · {save.state.strokes} stroke{save.state.strokes === 1 ? '' : 's'} · {Math.round(save.state.secondsSpent)} s
              </span>
            )}
            {editable && image.split !== TRAINING_SPLIT && (
              <span className="muted" data-testid="split-note">
                This image is in the {image.split} split: rounds train on the {TRAINING_SPLIT} split only, so corrections here are kept and exported but not learnt.
              </span>
            )}
          </div>
          {editable && (
            <RegionQueue
              region={region}
              budget={budget}
              stats={regionStats}
              busy={regionBusy}
              message={regionMessage}
              onNext={() => void nextRegion(region?.id)}
              onMark={(state, seconds) => void markRegion(state, seconds)}
              lock={regionLock}
              lockApplies={lockApplies}
              onLock={setRegionLock}
            />
          )}
          <LayersPanel rows={layerRows} settings={layers} onChange={(id, setting) => setLayers((current) => ({ ...current, [id]: setting }))} />
          <ClassPalette
            selected={snapshot?.classId ?? 0}
            protectedClasses={snapshot?.protectedClasses ?? []}
            editable={editable && snapshot?.phase === 'ready'}
            onSelect={(classId) => session?.setClass(classId)}
            onToggleProtected={(classId) => session?.toggleProtected(classId)}
          />
        </aside>
      </div>
      <footer className="image-view__hints muted">
        Wheel: zoom · space-drag, middle or right drag: pan · 1…0, ⇧1…9: class · B E I G P L S X: tools · [ ]: brush size · Ctrl+Z / Ctrl+Shift+Z: undo / redo · H: peek · O:
        correction · N: next region · R: paint only inside it · ← → / A D: images · F: fit · Esc: grid
      </footer>
    </section>
  );
}

const noSubscribe = () => () => undefined;
const nullSnapshot = (): SessionSnapshot | null => null;

function isTextEntry(target: EventTarget | null): boolean {
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'button'].includes(target.type);
}

function isInteractive(target: EventTarget | null): boolean {
  return target instanceof HTMLButtonElement || target instanceof HTMLInputElement || target instanceof HTMLSelectElement;
}
