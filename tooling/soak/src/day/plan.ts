import { UsageError } from '../options.js';
import type { SoakOptions } from '../options.js';
import type { MessagePlan } from '../plan.js';
import type { RestartCause } from '../result.js';
import { approvalsFeature } from './approvals.js';
import { cliFeature } from './cli-traffic.js';
import { clockFeature, findFaketime, FAKETIME_INSTALL } from './clock.js';
import type { HostileMoment, SoakFeature } from './feature.js';
import { clockJumpMoment } from './moments/clock.js';
import { heldReadMoment, heldWriteMoment } from './moments/db-hold.js';
import { diskFullMoment } from './moments/disk.js';
import { stopMoment } from './moments/stop.js';
import { schedulesFeature } from './schedules.js';
import { smallDiskFeature } from './small-disk.js';
import { telegramFeature } from './telegram.js';
import { watchdogFeature } from './watchdog.js';
import { webhooksFeature } from './webhooks.js';

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** What the day's parts need from the core: tracking a job another channel got accepted, and the restart path. */
export interface DayHooks {
  adopt: (jobId: string, plan: MessagePlan) => void;
  restart: (cause: RestartCause) => Promise<void>;
  /** A part left out, and why (written to the log and the report). */
  skipped: (what: string, why: string) => void;
}

/**
 * The day profile's parts: the features that run beside the core load (the small disk the data lives on, a
 * watchdog like systemd's, the wall clock under libfaketime, the Telegram channel, the webhook receivers,
 * approvals, schedules, the real CLI) and the hostile moments of the calm phase, in their order. Lengths scale with
 * --duration; a 2 h day: WatchdogSec 30 s as in deploy/systemd, the disk full for 60 s, the database held 30 s
 * (read) and 10 s (write), SIGSTOP for 20 s and 45 s, the clock +2 h and −1 h, each held 60 s.
 */
export function dayPlan(opts: SoakOptions, hooks: DayHooks): { features: SoakFeature[]; moments: HostileMoment[] } {
  if (opts.profile !== 'day') return { features: [], moments: [] };
  const d = opts.durationMs;
  const requireTools = process.env.ALTER0_REQUIRE_TOOLS === '1';
  // 100 MiB free to start (alter0 serve refuses less), the database with its backups, the WAL, and slack.
  const disk = smallDiskFeature({ sizeMb: Math.round(192 + (192 * d) / 3_600_000), requireTools });
  // While another program holds the write lock every write of the daemon waits on its one thread, so a ping can
  // come a ping interval plus the hold late: WatchdogSec stays above that (docs/soak.md).
  const watchdogSec = Math.round(clamp(d / 240_000, 20, 30));
  const watchdog = watchdogFeature({ watchdogSec, onHung: () => hooks.restart('watchdog') });
  const features: SoakFeature[] = [
    disk,
    watchdog,
    telegramFeature(),
    webhooksFeature(),
    approvalsFeature(),
    schedulesFeature(),
    cliFeature({ onAccepted: hooks.adopt }),
  ];
  const moments: HostileMoment[] = [
    diskFullMoment({ disk: disk.disk, fullMs: clamp(d / 120, 10_000, 60_000) }),
    heldReadMoment({ holdMs: clamp(d / 240, 5000, 30_000) }),
    heldWriteMoment({ holdMs: d >= 3_600_000 ? 10_000 : 7000 }),
    stopMoment({ stopMs: Math.round(watchdogSec * 700), watchdog }),
  ];
  if (findFaketime() !== null || requireTools) {
    const clock = clockFeature();
    features.push(clock);
    moments.push(clockJumpMoment({ clock, holdMs: clamp(d / 120, 5000, 60_000) }));
  } else hooks.skipped('clock jumps', `libfaketime is not installed (${FAKETIME_INSTALL})`);
  // Last: it restarts the daemon, so every moment before it falls in the calm's first lifetime, the one long enough
  // for the slopes.
  moments.push(stopMoment({ stopMs: Math.round(watchdogSec * 1500), watchdog }));
  if (opts.moments === null) return { features, moments };
  const unknown = opts.moments.filter((n) => !moments.some((m) => m.name === n));
  if (unknown.length > 0)
    throw new UsageError(
      `--moments: unknown ${unknown.join(', ')}; the day's moments are ${moments.map((m) => m.name).join(', ')}`,
    );
  return { features, moments: moments.filter((m) => opts.moments?.includes(m.name)) };
}
