/**
 * Registers the console's service worker (public/sw.js). It caches nothing and has no fetch handler: every request,
 * /api above all, goes to the daemon as without it. It shows notifications where a page may not (Chrome on
 * Android) and, when one is clicked, asks the open console to show the job: that request is handled here.
 */
export function registerServiceWorker(): void {
  if (!window.isSecureContext || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent<unknown>) => {
    const hash = openHash(e.data);
    if (hash) {
      window.focus();
      window.location.hash = hash;
    }
  });
  // Relative to the page: the console works the same at / or under a reverse proxy's prefix.
  navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((e: unknown) => {
    console.warn(`alter0 console: no service worker (${String(e)}); notifications on Android need it`);
  });
}

/** The console route a worker's `alter0.open` message names, or null for anything else. */
function openHash(data: unknown): string | null {
  if (!data || typeof data !== 'object' || !('type' in data) || !('hash' in data)) return null;
  const { type, hash } = data;
  return type === 'alter0.open' && typeof hash === 'string' && hash.startsWith('#/') ? hash : null;
}
