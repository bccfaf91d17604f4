// The app-wide sheet first: each feature's sheet, imported by its components, comes after it and may refine it.
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectApi } from './api/connect';
import { errorMessage } from './ApiContext';
import { App } from './App';

const root = createRoot(document.getElementById('root')!);

connectApi().then(
  (api) =>
    root.render(
      <StrictMode>
        <App api={api} />
      </StrictMode>,
    ),
  (error: unknown) =>
    root.render(
      <div className="connect-error" role="alert" data-testid="connect-error">
        <h1>Could not reach the CorDA workbench</h1>
        <p>{errorMessage(error)}</p>
        <button type="button" className="button button--primary" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>,
    ),
);
