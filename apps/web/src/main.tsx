import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApiClient } from './api/client.js';
import { App } from './App.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element; the console cannot start');
createRoot(root).render(
  <StrictMode>
    <App api={createApiClient()} eventsUrl="/api/events" />
  </StrictMode>,
);
