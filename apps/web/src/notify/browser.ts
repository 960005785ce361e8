import { jobHref } from '../ui/use-hash-route.js';
import type { JobNotification } from './job-notifier.js';

/** The owner's choice, kept by the browser for this console (every tab of it) until turned off. */
const CHOICE_KEY = 'alter0.notify';

/** Why this page cannot show notifications, or null when it can. */
export function notificationsUnavailable(): string | null {
  if (!window.isSecureContext) {
    return (
      `Browsers show notifications only to a secure page, and ${window.location.origin} is plain HTTP. Open the ` +
      'console as http://localhost on this machine, or over HTTPS (a reverse proxy in front of alter0).'
    );
  }
  if (typeof window.Notification !== 'function') {
    return (
      'This browser cannot show notifications from a page. On an iPhone or iPad, add the console to the Home ' +
      'Screen (Share, Add to Home Screen) and open it from there.'
    );
  }
  return null;
}

function notificationsWanted(): boolean {
  try {
    return window.localStorage.getItem(CHOICE_KEY) === 'on';
  } catch {
    return false;
  }
}

export function setNotificationsWanted(on: boolean): void {
  try {
    if (on) window.localStorage.setItem(CHOICE_KEY, 'on');
    else window.localStorage.removeItem(CHOICE_KEY);
  } catch {
    // storage blocked: the choice lasts as long as this page
  }
}

/** On: the owner asked for them and the browser still allows them (the permission can be taken back any time). */
export function notificationsOn(): boolean {
  return notificationsWanted() && notificationsUnavailable() === null && Notification.permission === 'granted';
}

/** The tab is in the background, minimised or its screen is off: the owner is not looking at the console. */
export function pageHidden(): boolean {
  return document.visibilityState !== 'visible';
}

/**
 * Shows `n`; a click brings this tab forward on the job's page. Chrome on Android lets only a service worker show
 * one: there the console's worker (public/sw.js) shows it and, on a click, opens the job.
 */
export function showJobNotification(n: JobNotification): void {
  const hash = jobHref(n.jobId);
  const options: NotificationOptions = {
    body: n.body,
    tag: `alter0-job-${n.jobId}`,
    icon: new URL('icons/icon-192.png', document.baseURI).href,
    data: { hash },
  };
  try {
    const shown = new Notification(n.title, options);
    shown.onclick = () => {
      window.focus();
      window.location.hash = hash;
      shown.close();
    };
  } catch {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.ready
      .then((r) => r.showNotification(n.title, options))
      .catch((e: unknown) => console.warn(`alter0 console: the notification was not shown (${String(e)})`));
  }
}
