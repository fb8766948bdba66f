/**
 * Page entry. The UI bundle never imports tfjs: all tensor work happens in the worker
 * (src/worker), reached through src/client.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import './ui/styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
