import { verify } from '@alter0/maintenance';
import type { MaintenancePool } from '@alter0/maintenance';

/**
 * alter0's own `db verify` (integrity_check, foreign keys, schema, its invariants on the tables), as failures in
 * words; empty when every check is ok. `lockHeld`: the daemon is running (jobs may be running).
 */
export async function verifyFailures(
  dbFile: string,
  opts: { pool?: MaintenancePool; signal?: AbortSignal } = {},
): Promise<string[]> {
  const r = await verify({ dbFile, lockHeld: true, busyTimeoutMs: 10_000, ...opts });
  const out: string[] = [];
  if (!r.integrity.ok) out.push(`integrity_check: ${r.integrity.messages.slice(0, 5).join('; ')}`);
  if (!r.foreignKeys.ok) out.push(`foreign_key_check: ${r.foreignKeys.error ?? `${r.foreignKeys.count} row(s)`}`);
  if (!r.schema.ok) out.push(`schema: ${r.schema.error ?? 'unknown'}`);
  for (const i of r.invariants)
    if (!i.ok) out.push(`${i.name}: ${i.count} — ${i.detail} e.g. ${i.examples.slice(0, 3).join(', ')}`);
  return out;
}
