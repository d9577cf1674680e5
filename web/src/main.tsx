import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles/base.css';
import './styles/controls.css';
import './styles/surfaces.css';
import './styles/shell.css';
import './styles/auth.css';
import './styles/editor.css';
import './styles/flag.css';
import './styles/people.css';
import './styles/tools.css';
import './styles/settings.css';
import './styles/narrow.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
