import * as v from 'valibot';

/** Building blocks the request, answer and event schemas share. */

/** An id the daemon made: a type prefix and a lower-case ULID (`j_01j…`). */
export const idOf = (prefix: 't' | 'm' | 'j' | 'd' | 'a' | 'r' | 's' | 'f') =>
  v.pipe(v.string(), v.regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `must be a ${prefix}_ id such as ${prefix}_01j…`));

/** RFC 3339 UTC, as the daemon writes it (`Date.prototype.toISOString`). */
export const timestamp = v.pipe(v.string(), v.isoTimestamp('must be an RFC 3339 timestamp'));

export const count = v.pipe(v.number(), v.integer(), v.minValue(0));

export const nullableString = v.nullable(v.string());
export const nullableNumber = v.nullable(v.number());
export const nullableTimestamp = v.nullable(timestamp);
