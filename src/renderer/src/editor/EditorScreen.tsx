// The editor screen: one image at a time on the Konva canvas (canvas/): the RGB, read-only layers of the newest
// round (prediction, difficulty, confidence, depth heads), the pseudo depth and ground truth, and the correction
// a person edits with the tools. Next / previous, zoom, pan, the region queue and the budget meter. The state
// lives in hooks (session, layers, region queue, budget); keys and buttons perform the actions of actions.ts.
import { useEffect, useRef, useState } from 'react';
import { TRAINING_SPLIT, type ImageSummary, type Region } from '../../../shared/api';
import { useApi } from '../ApiContext';
import { imageUrl } from '../api/connect';
import type { EditorSession } from '../canvas/session';
import { formatZoom } from '../canvas/zoomPan';
import { actionTitle, perform, ZOOM_STEP, type KeyAction, type ScreenControls } from './actions';
import { ClassPalette } from './ClassPalette';
import { CompareStrip } from './CompareStrip';
import { LayersPanel } from './LayersPanel';
import { RegionQueue } from './RegionQueue';
import { ToolBar } from './ToolBar';
import { useBudget } from './useBudget';
import { useEditorCanvas } from './useEditorCanvas';
import { useEditorKeys } from './useEditorKeys';
import { useEditorSession } from './useEditorSession';
import { useLatestRound } from './useLatestRound';
import { useLayers } from './useLayers';
import { useRegionQueue } from './useRegionQueue';
import './editor.css';

interface EditorScreenProps {
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

export function EditorScreen({ images, index, editable, onNavigate, onClose, region, onRegion: setRegion }: EditorScreenProps) {
  const api = useApi();
  const image = images[index]!;
  const viewportRef = useRef<HTMLDivElement>(null);
  const hoverRef = useRef<HTMLSpanElement>(null);
  const sessionRef = useRef<EditorSession | null>(null);
  const [compare, setCompare] = useState(false);
  const { roundsKnown, latestRoundId } = useLatestRound(api, image.datasetId);
  const { canvas, view } = useEditorCanvas(viewportRef, hoverRef, sessionRef);
  const { session, snapshot } = useEditorSession(api, canvas, sessionRef, image, latestRoundId, roundsKnown, editable);
  const layers = useLayers(canvas, session, image, latestRoundId, editable);
  const budget = useBudget(api, image.datasetId, snapshot);

  const save = snapshot?.save ?? null;
  const unsavedWithError = (save?.pending ?? 0) > 0 && save?.error;
  function leaveTo(imageId: number) {
    if (session?.snapshot().busy) return;
    if (unsavedWithError) return; // the status says why; the strokes must not be left behind unsaved
    onNavigate(imageId);
  }
  const regions = useRegionQueue({ api, canvas, session, snapshot, image, latestRoundId, region, setRegion, leaveTo });

  const screen: ScreenControls = {
    session,
    canvas,
    go(delta) {
      const next = images[Math.max(0, Math.min(images.length - 1, index + delta))];
      if (next && next.id !== image.id) leaveTo(next.id);
    },
    close() {
      if (unsavedWithError || session?.snapshot().busy) return;
      onClose();
    },
    toggleCorrection: layers.toggleCorrection,
    setPeek: layers.setPeek,
    nextRegion: regions.next,
    toggleRegionLock: regions.toggleLock,
  };
  const run = (action: KeyAction) => perform(screen, action);
  useEditorKeys(screen);

  // Warm the browser cache for the neighbours so next / previous feel instant.
  useEffect(() => {
    for (const neighbour of [images[index + 1], images[index - 1]]) if (neighbour) new Image().src = imageUrl(neighbour.id, 'rgb');
  }, [images, index]);

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
        <button type="button" className="button" data-testid="image-view-close" title={actionTitle('close')} onClick={() => run({ kind: 'close' })}>
          ← Grid
        </button>
        <div className="button-group">
          <button type="button" className="button" data-testid="image-prev" title={actionTitle('previous')} disabled={index === 0} onClick={() => run({ kind: 'previous' })}>
            ‹
          </button>
          <button type="button" className="button" data-testid="image-next" title={actionTitle('next')} disabled={index === images.length - 1} onClick={() => run({ kind: 'next' })}>
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
          <button type="button" className="button" data-testid="zoom-out" title="Zoom out (−)" onClick={() => run({ kind: 'zoom', factor: 1 / ZOOM_STEP })}>
            −
          </button>
          <span className="zoom-level" data-testid="zoom-level" aria-live="polite">
            {formatZoom(view.scale)}
          </span>
          <button type="button" className="button" data-testid="zoom-in" title="Zoom in (+)" onClick={() => run({ kind: 'zoom', factor: ZOOM_STEP })}>
            +
          </button>
          <button type="button" className="button" data-testid="zoom-fit" title={actionTitle('fit')} onClick={() => run({ kind: 'fit' })}>
            Fit
          </button>
          <button type="button" className="button" data-testid="zoom-actual" title={actionTitle('actualSize')} onClick={() => run({ kind: 'actualSize' })}>
            1:1
          </button>
        </div>
      </div>
      {editable && session && snapshot && (
        <ToolBar snapshot={snapshot} run={run} onBrushSize={(size) => session.setBrushSize(size)} compare={compare} onCompare={setCompare} />
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
              stats={regions.stats}
              busy={regions.busy}
              message={regions.message}
              onNext={() => run({ kind: 'nextRegion' })}
              onMark={regions.mark}
              lock={regions.lock}
              lockApplies={regions.lockApplies}
              onLock={regions.setLock}
            />
          )}
          <LayersPanel rows={layers.rows} settings={layers.layers} onChange={layers.setLayer} />
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
