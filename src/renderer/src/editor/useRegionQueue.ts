// The region queue on the editor screen: jump to the hardest open region (on another image too), mark it done
// or skipped, its counts and times, its outline on the canvas, and the lock that keeps strokes inside it.
import { useEffect, useState } from 'react';
import { TRAINING_SPLIT, type CordaApi, type ImageSummary, type Region, type RegionStats } from '../../../shared/api';
import { errorMessage } from '../ApiContext';
import type { LabelCanvas } from '../canvas/labelCanvas';
import type { EditorSession, SessionSnapshot } from '../canvas/session';

interface RegionQueueInput {
  api: CordaApi;
  canvas: LabelCanvas | null;
  session: EditorSession | null;
  snapshot: SessionSnapshot | null;
  image: ImageSummary;
  latestRoundId: number | null;
  /** The current region; kept by the parent because it outlives a jump to another image. */
  region: Region | null;
  setRegion: (region: Region | null) => void;
  /** Opens another image (unless unsaved strokes hold this one). */
  leaveTo: (imageId: number) => void;
}

export function useRegionQueue({ api, canvas, session, snapshot, image, latestRoundId, region, setRegion, leaveTo }: RegionQueueInput) {
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [stats, setStats] = useState<RegionStats | null>(null);
  /** Strokes stay inside the queued region's superpixel while it is on this image. */
  const [lock, setLock] = useState(false);

  // The queue's counts and times: the current region's round, else the newest; again after every jump or mark.
  useEffect(() => {
    let live = true;
    api.getRegionStats({ datasetId: image.datasetId, ...(region && { roundId: region.roundId }) }).then(
      (found) => live && setStats(found),
      () => live && setStats(null),
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
  const confinedTo = lock && lockApplies ? region.superpixel : null;
  useEffect(() => session?.confineTo(confinedTo), [session, confinedTo]);

  async function next(after?: number) {
    setBusy(true);
    try {
      const found = await api.nextRegion({ datasetId: image.datasetId, ...(after !== undefined && { afterRegionId: after }) });
      setRegion(found);
      setMessage(found ? null : latestRoundId ? `No open regions left on ${TRAINING_SPLIT} images in the newest round.` : 'Run a round first: regions come from its difficulty maps.');
      if (found && found.imageId !== image.id) leaveTo(found.imageId);
    } catch (error) {
      setMessage(errorMessage(error));
    } finally {
      setBusy(false);
    }
  }

  async function mark(state: 'done' | 'skipped', seconds: number | undefined) {
    if (!region) return;
    try {
      await api.setRegionState({ regionId: region.id, state, ...(seconds !== undefined && { seconds }) });
      await next(region.id);
    } catch (error) {
      setMessage(errorMessage(error));
    }
  }

  return {
    stats,
    busy,
    message,
    lock,
    lockApplies,
    setLock,
    toggleLock: () => setLock((on) => !on),
    /** The hardest open region after the current one. */
    next: () => void next(region?.id),
    mark: (state: 'done' | 'skipped', seconds: number | undefined) => void mark(state, seconds),
  };
}
