/**
 * The bearer token a daemon listening beyond loopback requires. Kept for this browser tab only
 * (sessionStorage), so closing the tab forgets it; falls back to memory where storage is blocked.
 */
export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
}

const KEY = 'alter0.token';

export function sessionTokenStore(storage: Storage | null = safeSessionStorage()): TokenStore {
  let memory: string | null = null;
  return {
    get: () => {
      try {
        return storage?.getItem(KEY) ?? memory;
      } catch {
        return memory;
      }
    },
    set: (token) => {
      memory = token;
      try {
        if (token === null) storage?.removeItem(KEY);
        else storage?.setItem(KEY, token);
      } catch {
        // storage full or blocked: the in-memory copy still works for this page
      }
    },
  };
}

function safeSessionStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
