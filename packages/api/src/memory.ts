import * as v from 'valibot';
import { idOf, timestamp } from './fields.js';

/** The owner's memory entries (docs/api.md "Memory"; docs/memory.md). */

/** note: the owner's entry; task_summary: what a task did, kept when it closed. */
export const MEMORY_KINDS = ['note', 'task_summary'] as const;

export const MemoryEntry = v.object({
  id: idOf('r'),
  /** null: global (every task's new sessions); else that task's own. */
  task_id: v.nullable(idOf('t')),
  /** note: the owner's entry; task_summary: what a task did, kept when it closed. */
  kind: v.picklist(MEMORY_KINDS),
  content: v.string(),
  /** Kept by retention even when its task ages out. */
  pinned: v.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type MemoryEntry = v.InferOutput<typeof MemoryEntry>;

export const MemoryList = v.object({ memory: v.array(MemoryEntry) });

const content = v.pipe(
  v.string('content must be a string'),
  v.trim(),
  v.minLength(1, 'content must not be empty'),
  v.maxLength(4000, 'content must be at most 4000 characters (memory is a short fact or preference)'),
);

export const MemoryInput = v.strictObject({ content, task_id: v.optional(v.nullable(idOf('t'))) });
export type MemoryRequest = v.InferInput<typeof MemoryInput>;
/** A change of content, of the pin, or both; at least one of them. */
export const MemoryEditInput = v.pipe(
  v.strictObject({
    content: v.optional(content),
    pinned: v.optional(v.boolean('pinned must be true or false')),
  }),
  v.check(
    (x) => x.content !== undefined || x.pinned !== undefined,
    'give content (the new text) and/or pinned (true or false)',
  ),
);
export type MemoryEditRequest = v.InferInput<typeof MemoryEditInput>;

/** A search's query: every word must match (case-insensitive). */
const searchQuery = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, 'q must contain at least one word'),
  v.maxLength(500, 'q must be at most 500 characters'),
);
/** GET /api/memory: all entries (oldest first), or with `q` the best matches first (at most 50). */
export const MemoryQuery = v.object({
  task_id: v.optional(v.string()),
  kind: v.optional(v.picklist(MEMORY_KINDS, 'kind must be note or task_summary')),
  q: v.optional(searchQuery),
});
export type MemoryFilter = v.InferInput<typeof MemoryQuery>;
export const MemoryDeleted = v.object({ id: idOf('r'), deleted: v.literal(true) });
export type MemoryDeleted = v.InferOutput<typeof MemoryDeleted>;
