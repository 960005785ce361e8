import { createContext, useContext } from 'react';
import type { ApiClient } from './api/client.js';
import type { LiveBus } from './live/bus.js';

export interface AppServices {
  api: ApiClient;
  bus: LiveBus;
  /** Bumped by the refresh control and after a live reconnect: every view refetches when it changes. */
  reloadToken: number;
  /** Sets the task new messages go into (null: let the router decide). */
  setReplyTo(task: { id: string; title: string } | null): void;
}

export const AppContext = createContext<AppServices | null>(null);

export function useApp(): AppServices {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp() must be used inside <AppContext.Provider>');
  return ctx;
}
