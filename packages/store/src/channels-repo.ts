import { and, asc, eq } from 'drizzle-orm';
import { newId } from '@alter0/core';
import type { Drizzle } from './db.js';
import { channelCursors, channelRefs } from './schema.js';

/** What channels keep of their own: input positions, and which chat message belongs to which job. */
export class ChannelsRepo {
  constructor(private readonly db: Drizzle) {}

  cursor(channel: string): string | null {
    return (
      this.db
        .select({ value: channelCursors.value })
        .from(channelCursors)
        .where(eq(channelCursors.channel, channel))
        .get()?.value ?? null
    );
  }

  /** Joins the caller's transaction when there is one (an accept commits its update's offset with it). */
  setCursor(channel: string, value: string, now: number): void {
    this.db
      .insert(channelCursors)
      .values({ channel, value, updatedAt: now })
      .onConflictDoUpdate({ target: channelCursors.channel, set: { value, updatedAt: now } })
      .run();
  }

  addRef(r: { channel: string; chatId: string; messageId: number; jobId: string; now: number }): void {
    this.db
      .insert(channelRefs)
      .values({
        id: newId('n'),
        channel: r.channel,
        chatId: r.chatId,
        messageId: r.messageId,
        jobId: r.jobId,
        createdAt: r.now,
      })
      .onConflictDoNothing()
      .run();
  }

  /** The job a chat message belongs to, or null when the channel does not know that message. */
  jobOf(channel: string, chatId: string, messageId: number): string | null {
    return (
      this.db
        .select({ jobId: channelRefs.jobId })
        .from(channelRefs)
        .where(
          and(eq(channelRefs.channel, channel), eq(channelRefs.chatId, chatId), eq(channelRefs.messageId, messageId)),
        )
        .get()?.jobId ?? null
    );
  }

  /** The first chat message of a job (the owner's own message): the reply answers it. */
  firstRefOf(channel: string, jobId: string): { chatId: string; messageId: number } | null {
    return (
      this.db
        .select({ chatId: channelRefs.chatId, messageId: channelRefs.messageId })
        .from(channelRefs)
        .where(and(eq(channelRefs.channel, channel), eq(channelRefs.jobId, jobId)))
        .orderBy(asc(channelRefs.createdAt), asc(channelRefs.messageId))
        .get() ?? null
    );
  }
}
