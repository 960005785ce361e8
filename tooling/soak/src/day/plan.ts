import type { SoakOptions } from '../options.js';
import type { HostileMoment, SoakFeature } from './feature.js';
import { heldReadMoment, heldWriteMoment } from './moments/db-hold.js';
import { diskFullMoment } from './moments/disk.js';
import { smallDiskFeature } from './small-disk.js';
import { telegramFeature } from './telegram.js';
import { webhooksFeature } from './webhooks.js';

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * The day profile's parts: the features that run beside the core load (the small disk the data lives on, the
 * Telegram channel, the webhook receivers) and the hostile moments of the calm phase, in their order. Lengths scale
 * with --duration: a 2 h day fills the disk for 60 s and holds the database for 30 s (read) and 10 s (write).
 */
export function dayPlan(opts: SoakOptions): { features: SoakFeature[]; moments: HostileMoment[] } {
  if (opts.profile !== 'day') return { features: [], moments: [] };
  const hours = opts.durationMs / 3_600_000;
  const requireTools = process.env.ALTER0_REQUIRE_TOOLS === '1';
  // 100 MiB free to start (alter0 serve refuses less), the database with its backups, the WAL, and slack.
  const disk = smallDiskFeature({ sizeMb: Math.round(192 + 64 * hours), requireTools });
  const features: SoakFeature[] = [disk, telegramFeature(), webhooksFeature()];
  const moments: HostileMoment[] = [
    diskFullMoment({ disk: disk.disk, fullMs: clamp(opts.durationMs / 120, 10_000, 60_000) }),
    heldReadMoment({ holdMs: clamp(opts.durationMs / 240, 5000, 30_000) }),
    heldWriteMoment({ holdMs: opts.durationMs >= 3_600_000 ? 10_000 : 8000 }),
  ];
  return { features, moments };
}
