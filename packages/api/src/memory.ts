import * as v from 'valibot';
import { idOf, timestamp } from './fields.js';

/** The owner's memory entries (docs/api.md "Memory"; docs/memory.md). */

export const MemoryEntry = v.object({
  id: idOf('r'),
  /** null: global (every task's new sessions); else that task's own. */
  task_id: v.nullable(idOf('t')),
  /** note: the owner's entry; task_summary: what a task did, kept when it closed. */
  kind: v.picklist(['note', 'task_summary']),
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
export const MemoryEditInput = v.strictObject({ content });
export const MemoryQuery = v.object({ task_id: v.optional(v.string()) });
export const MemoryDeleted = v.object({ id: idOf('r'), deleted: v.literal(true) });
export type MemoryDeleted = v.InferOutput<typeof MemoryDeleted>;
