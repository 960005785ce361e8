// The console's service worker. It caches nothing and has no fetch handler, so every request (the console's files
// and every /api call) goes to the daemon exactly as without it: no reply, job or token is ever kept by the browser.
// It is here for two things only: a place from which a notification can be shown where a page may not show one
// itself (Chrome on Android), and opening the job a notification is about when it is clicked.
/* global self, clients, caches */

self.addEventListener('install', () => {
  void self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  // Nothing is cached by this worker; clear whatever an older one may have left, then serve every open console.
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.map((k) => caches.delete(k))))
      .then(() => clients.claim()),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const hash = typeof event.notification.data?.hash === 'string' ? event.notification.data.hash : '';
  event.waitUntil(openConsole(hash));
});

/** Focuses an open console and shows `hash` there (the page does the navigation), or opens a new one at it. */
async function openConsole(hash) {
  const windows = await clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => w.url.startsWith(self.registration.scope));
  if (open) {
    open.postMessage({ type: 'alter0.open', hash });
    await open.focus();
    return;
  }
  await clients.openWindow(new URL(hash, self.registration.scope).href);
}
