// The Library: datasets and adaptation rounds in the sidebar, a filtered thumbnail grid, and the image view.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppInfo, CordaApi, Dataset, ImageSummary, ImportResult, JobFinished, Region } from '../../shared/api';
import { ApiContext, errorMessage } from './ApiContext';
import { useConnectionState, useOnReconnect } from './api/useConnection';
import { ProgressBar } from './components/ProgressBar';
import { EditorScreen } from './editor/EditorScreen';
import { DatasetList } from './library/DatasetList';
import { Filters, type ImageFilters } from './library/Filters';
import { ImportPanel } from './library/ImportPanel';
import { ThumbnailGrid } from './library/ThumbnailGrid';
import { RoundsPanel } from './rounds/RoundsPanel';
import { RoundsView } from './rounds/RoundsView';
import { useJobs } from './useJobs';

interface LoadedImages {
  /** Which query these images answer; when it differs from the current one, a newer list is on its way. */
  query: string;
  datasetId: number;
  images: ImageSummary[];
}

export function App({ api }: { api: CordaApi }) {
  const [appInfo, setAppInfo] = useState<AppInfo | null>(null);
  const [datasets, setDatasets] = useState<Dataset[] | null>(null);
  const [selectedDatasetId, setSelectedDatasetId] = useState<number | null>(null);
  const [filters, setFilters] = useState<ImageFilters>({ labelledOnly: false });
  const [loaded, setLoaded] = useState<LoadedImages | null>(null);
  const [activeImageId, setActiveImageId] = useState<number | null>(null);
  const [openImageId, setOpenImageId] = useState<number | null>(null);
  const [returnedFromViewer, setReturnedFromViewer] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);
  const [region, setRegion] = useState<Region | null>(null);
  const [tab, setTab] = useState<'library' | 'rounds'>('library');
  const thumbnailJobsStarted = useRef(new Set<number>());
  /** Bumped when the connection is back, so the image list is fetched again. */
  const [reconnects, setReconnects] = useState(0);
  const connection = useConnectionState();

  const reportError = useCallback((error: unknown) => {
    const message = errorMessage(error);
    setErrors((current) => (current.includes(message) ? current : [...current, message]));
  }, []);

  const onJobFinished = useCallback(
    (finished: JobFinished) => {
      // A failed import is reported by its own request; thumbnail jobs run in the background and report here.
      if (finished.kind === 'thumbnails' && finished.status === 'failed') {
        reportError(`Generating thumbnails failed: ${finished.error ?? 'no reason given'}`);
      }
    },
    [reportError],
  );
  const { jobs } = useJobs(api, onJobFinished);

  const reloadDatasets = useCallback(() => {
    api.listDatasets({}).then((list) => {
      setDatasets(list);
      setSelectedDatasetId((current) =>
        current !== null && list.some((dataset) => dataset.id === current) ? current : defaultDatasetId(list),
      );
    }, reportError);
  }, [api, reportError]);

  useEffect(() => {
    api.getAppInfo({}).then(setAppInfo, reportError);
    reloadDatasets();
    return api.onEvent((message) => {
      if (message.event === 'datasetsChanged') reloadDatasets();
    });
  }, [api, reloadDatasets, reportError]);

  // Back from a lost connection (the server may have restarted): fetch again what came from it.
  useOnReconnect(() => {
    api.getAppInfo({}).then(setAppInfo, reportError);
    reloadDatasets();
    setReconnects((n) => n + 1);
  });

  // Pre-generate the selected dataset's thumbnails in the background, once per dataset and session.
  useEffect(() => {
    if (selectedDatasetId === null || thumbnailJobsStarted.current.has(selectedDatasetId)) return;
    thumbnailJobsStarted.current.add(selectedDatasetId);
    api.generateThumbnails({ datasetId: selectedDatasetId }).catch(reportError);
  }, [api, selectedDatasetId, reportError]);

  const { split, city, labelledOnly, corrected, sort } = filters;
  const query = JSON.stringify([selectedDatasetId, split, city, labelledOnly, corrected, sort]);
  useEffect(() => {
    if (selectedDatasetId === null) return;
    let current = true;
    api
      .listImages({ datasetId: selectedDatasetId, split, city, hasLabels: labelledOnly ? true : undefined, corrected, sort })
      .then(
        (images) => current && setLoaded({ query, datasetId: selectedDatasetId, images }),
        (error: unknown) => current && reportError(error),
      );
    return () => {
      current = false;
    };
  }, [api, selectedDatasetId, split, city, labelledOnly, corrected, sort, query, reportError, reconnects]);

  function selectDataset(datasetId: number) {
    if (datasetId === selectedDatasetId) return;
    setSelectedDatasetId(datasetId);
    setFilters((current) => ({ ...current, city: undefined }));
    setOpenImageId(null);
  }

  function onImported(result: ImportResult) {
    reloadDatasets();
    selectDataset(result.datasetId);
  }

  const openImage = useCallback(
    (imageId: number) => {
      setActiveImageId(imageId);
      setOpenImageId(imageId);
      // The region queue can lead to an image the filters hide: show the whole dataset then.
      if (loaded && !loaded.images.some((image) => image.id === imageId)) setFilters({ labelledOnly: false });
    },
    [loaded],
  );

  function closeViewer() {
    setOpenImageId(null);
    setReturnedFromViewer(true);
  }

  const selectedDataset = datasets?.find((dataset) => dataset.id === selectedDatasetId) ?? null;
  const images = loaded?.images ?? null;
  const stale = loaded !== null && loaded.query !== query;
  const openIndex = images && openImageId !== null ? images.findIndex((image) => image.id === openImageId) : -1;
  const thumbnailJob = jobs.filter((job) => job.kind === 'thumbnails').at(-1);

  return (
    <ApiContext.Provider value={api}>
      <div className="app">
        <header className="app-header">
          <span className="app-header__brand">CorDA workbench</span>
          <span className="app-header__project" data-testid="project-name" title={appInfo?.projectDir}>
            {appInfo?.projectName ?? '…'}
          </span>
          <span className="app-header__dir muted">{appInfo?.projectDir}</span>
          <nav className="tabs" aria-label="Views">
            <button type="button" className={`tab${tab === 'library' ? ' is-active' : ''}`} data-testid="tab-library" aria-pressed={tab === 'library'} onClick={() => setTab('library')}>
              Library
            </button>
            <button type="button" className={`tab${tab === 'rounds' ? ' is-active' : ''}`} data-testid="tab-rounds" aria-pressed={tab === 'rounds'} onClick={() => setTab('rounds')}>
              Rounds
            </button>
          </nav>
          <span className="toolbar__spacer" />
          {appInfo && (
            <span className="app-header__transport muted">
              {appInfo.transport === 'web' ? 'web mode' : 'desktop'} · v{appInfo.version}
            </span>
          )}
        </header>
        {!connection.connected && <ConnectionBanner attempt={connection.attempt} />}
        {errors.length > 0 && (
          <div className="error-banner" role="alert" data-testid="error-banner">
            {errors.map((message) => (
              <p key={message}>
                <span>{message}</span>
                <button
                  type="button"
                  className="button button--ghost"
                  aria-label="Dismiss"
                  onClick={() => setErrors((current) => current.filter((m) => m !== message))}
                >
                  ×
                </button>
              </p>
            ))}
          </div>
        )}
        <div className="app-body">
          <nav className="sidebar" aria-label="Datasets and rounds">
            <h2 className="sidebar__title">Datasets</h2>
            <DatasetList datasets={datasets} selectedId={selectedDatasetId} onSelect={selectDataset} />
            <ImportPanel
              canPickFolder={appInfo?.canPickFolder ?? false}
              importJobs={jobs.filter((job) => job.kind === 'import')}
              onImported={onImported}
            />
            <RoundsPanel datasets={datasets} />
          </nav>
          {tab === 'rounds' ? (
            <main className="library">
              <RoundsView datasets={datasets ?? []} appInfo={appInfo} />
            </main>
          ) : (
          <main className="library">
            <div className="toolbar library__toolbar">
              <Filters filters={filters} cities={selectedDataset?.cities ?? []} onChange={setFilters} />
              <span className="image-count" data-testid="image-count">
                {images === null || stale ? 'Loading…' : `${images.length.toLocaleString()} image${images.length === 1 ? '' : 's'}`}
              </span>
              <span className="toolbar__spacer" />
              {thumbnailJob && <ProgressBar progress={thumbnailJob} label="Thumbnails" testId="thumbnail-progress" compact />}
            </div>
            {selectedDatasetId === null ? (
              <p className="library__empty muted">{datasets === null ? 'Loading…' : 'Import a dataset to start.'}</p>
            ) : images === null ? (
              <p className="library__empty muted">Loading images…</p>
            ) : openIndex >= 0 ? (
              <EditorScreen
                images={images}
                index={openIndex}
                editable={selectedDataset?.role === 'target'}
                onNavigate={openImage}
                onClose={closeViewer}
                region={region}
                onRegion={setRegion}
              />
            ) : (
              <ThumbnailGrid
                key={loaded?.datasetId}
                images={images}
                activeImageId={activeImageId}
                onActiveChange={setActiveImageId}
                onOpen={openImage}
                focusActiveOnMount={returnedFromViewer}
                stale={stale}
              />
            )}
          </main>
          )}
        </div>
      </div>
    </ApiContext.Provider>
  );
}

function defaultDatasetId(datasets: Dataset[]): number | null {
  return (datasets.find((dataset) => dataset.role === 'target') ?? datasets[0])?.id ?? null;
}

/** After this many failed attempts the banner also says what to do if the server moved. */
const ATTEMPTS_BEFORE_ADVICE = 10;

function ConnectionBanner({ attempt }: { attempt: number }) {
  const port = window.location.port;
  return (
    <div className="connection-banner" role="alert" data-testid="connection-banner" data-attempt={attempt}>
      <p>
        Connection to the workbench server lost — reconnecting (attempt {attempt})… Unsaved strokes are kept in this window and saved when it is
        back.
      </p>
      {attempt > ATTEMPTS_BEFORE_ADVICE && (
        <p data-testid="connection-advice">
          If you restarted <code>corda serve</code> on another port, this window cannot reach it: stop it and start it again for the same project
          with <code>--port {port}</code>, and this window saves its strokes. Do not close this window until the editor says “All changes saved”.
        </p>
      )}
    </div>
  );
}
