import { useEffect, useMemo } from 'react';
import { useApp } from '../app-context.js';
import { notificationsOn, pageHidden, showJobNotification } from './browser.js';
import { JobNotifier } from './job-notifier.js';

function tabStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/**
 * The notifier of this console's jobs, fed with every live `job` event while mounted. The composer tells it the
 * ids of the jobs it starts; their ends are notified when the owner turned notifications on and is looking elsewhere.
 */
export function useJobNotifications(): JobNotifier {
  const { bus } = useApp();
  const notifier = useMemo(
    () =>
      new JobNotifier({
        shouldNotify: () => notificationsOn() && pageHidden(),
        show: showJobNotification,
        storage: tabStorage(),
      }),
    [],
  );
  useEffect(() => bus.onJob((job) => notifier.seen(job)), [bus, notifier]);
  return notifier;
}
