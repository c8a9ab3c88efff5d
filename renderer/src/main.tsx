/** The window's entry: picks the bridge (Electron preload or web mode's WebSocket) and renders the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { createBridge } from './bridge/index.ts';
import { useApp } from './store/store.ts';
import './styles/app.css';

const handle = createBridge(window);
handle.onLink((state, detail) => useApp.getState().setLink(state, detail));
if (handle.transport === 'electron') useApp.getState().setLink('open', '');
void useApp.getState().attach(handle.bridge, handle.transport);

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
