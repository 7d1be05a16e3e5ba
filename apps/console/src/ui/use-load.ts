import { useCallback, useEffect, useState } from 'react';

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'ok'; readonly data: T }
  | { readonly state: 'failed'; readonly problem: unknown };

/** Loads once per change of `key`, and again on reload(); an answer for an older key is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  useEffect(() => {
    let current = true;
    setLoaded({ state: 'loading' });
    load().then(
      (data) => current && setLoaded({ state: 'ok', data }),
      (problem: unknown) => current && setLoaded({ state: 'failed', problem }),
    );
    return () => {
      current = false;
    };
    // `load` is a new closure on every render; `key` says when what it loads changed.
  }, [key, round]);
  return [loaded, reload];
}
