import { useCallback, useEffect, useState } from 'react';
import { errorMessage } from '../api/client.js';
import { useApp } from '../app-context.js';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload(): void;
  setData(update: (prev: T | null) => T | null): void;
}

/**
 * Runs `load` when it changes (memoize it with useCallback over what it reads), on `reload()`, and when the app's
 * reloadToken is bumped (the refresh control, a live reconnect), aborting the previous run so a slow answer
 * never overwrites a newer one. Keeps the last data while reloading so views do not flicker.
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  merge?: (prev: T | null, next: T) => T,
): Loaded<T> {
  const { reloadToken } = useApp();
  const [data, setDataState] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    load(ac.signal).then(
      (v) => {
        if (ac.signal.aborted) return;
        setDataState((prev) => (merge ? merge(prev, v) : v));
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (ac.signal.aborted) return;
        setError(errorMessage(e));
        setLoading(false);
      },
    );
    return () => ac.abort();
  }, [load, merge, reloadToken, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((update: (prev: T | null) => T | null) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}
