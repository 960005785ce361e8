import { useId, useState } from 'react';
import { notificationsOn, notificationsUnavailable, setNotificationsWanted } from '../notify/browser.js';

const LABEL = 'Notify me when my jobs end';
const ON =
  'On: when a message sent from here ends while this tab is in the background, a notification says how it went.';
const OFF = 'The browser asks for its permission the first time.';
const BLOCKED = 'Notifications are blocked for this site: allow them in the browser’s site settings, then try again.';

/**
 * The owner's opt-in to a browser notification when a job sent from this console ends while it is in the background.
 * The browser's permission is asked only on a click; the choice is remembered and a second click turns it off.
 * Where the browser cannot notify (a plain-HTTP page on a LAN address), the control is disabled and says why.
 */
export function NotifyToggle() {
  const hintId = useId();
  const unavailable = notificationsUnavailable();
  const [on, setOn] = useState(() => notificationsOn());
  const [note, setNote] = useState<string | null>(null);

  const toggle = async (): Promise<void> => {
    if (on) {
      setNotificationsWanted(false);
      setOn(false);
      setNote('Off: no notifications from this console.');
      return;
    }
    // Asked on this click only (a prompt nobody asked for gets dismissed); when already granted it answers at once.
    const permission = await Notification.requestPermission().catch(() => Notification.permission);
    if (permission === 'granted') {
      setNotificationsWanted(true);
      setOn(true);
      setNote(null);
    } else if (permission === 'denied') {
      setNote(BLOCKED);
    } else {
      setNote('Not turned on: the browser’s question was dismissed.');
    }
  };

  const hint = unavailable ?? note ?? (on ? ON : Notification.permission === 'denied' ? BLOCKED : OFF);
  return (
    <div className="notify-toggle">
      {/* .segmented: a pressed toggle looks pressed, as the console's filters do. */}
      <span className="segmented">
        <button
          type="button"
          className="btn small"
          aria-pressed={unavailable ? undefined : on}
          aria-describedby={hintId}
          disabled={unavailable !== null}
          onClick={() => void toggle()}
        >
          {LABEL}
        </button>
      </span>
      <p id={hintId} className="hint" data-notify={unavailable ? 'unavailable' : on ? 'on' : 'off'}>
        {hint}
      </p>
    </div>
  );
}
