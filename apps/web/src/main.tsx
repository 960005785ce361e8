import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { sessionTokenStore } from './api/token.js';
import { App } from './App.js';
import { registerServiceWorker } from './notify/service-worker.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element; the console cannot start');
createRoot(root).render(
  <StrictMode>
    <App token={sessionTokenStore()} />
  </StrictMode>,
);
// After the first render: the worker is not needed to show the console.
registerServiceWorker();
