import { monotonicFactory } from 'ulid';

/**
 * Ids are a short type prefix plus a ULID: sortable by creation time, unique across restarts,
 * and recognisable in logs (`t_` task, `m_` message, `j_` job, `d_` decision, `e_` event, `s_` schedule, `f_` a schedule's firing).
 */
export type IdKind = 't' | 'm' | 'j' | 'd' | 'e' | 'n' | 'a' | 'r' | 's' | 'f';
const next = monotonicFactory();

export function newId(kind: IdKind): string {
  return `${kind}_${next().toLowerCase()}`;
}

const ID_RE = /^[tmjdenarsf]_[0-9a-hjkmnp-tv-z]{26}$/;
export function looksLikeId(s: string, kind?: IdKind): boolean {
  return ID_RE.test(s) && (kind === undefined || s.startsWith(`${kind}_`));
}
