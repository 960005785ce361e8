import { ValidationError } from '@alter0/core';
import type { MemoryEntry } from '@alter0/api';
import { table } from '../format.js';
import { output } from '../output.js';
import type { MemoryArgs } from '../descriptors/memory.js';
import type { CliClient } from '../client.js';
import { clientFor } from './client.js';

const out = (s: string): void => output.text(s);

function printEntry(m: MemoryEntry): void {
  out(`${m.id}  ${m.task_id ? `task ${m.task_id}` : 'global'}  ${m.content}`);
}

/** How wide a search result's excerpt is, in characters (a table cell shows at most 60). */
const EXCERPT_CHARS = 58;

/** One line of `content` around the first of `words` it contains (the start when only the task's title matched). */
function excerpt(content: string, words: readonly string[]): string {
  const one = content.replace(/\s+/g, ' ').trim();
  const lower = one.toLowerCase();
  const hits = words.map((w) => lower.indexOf(w.toLowerCase())).filter((i) => i >= 0);
  const first = hits.length ? Math.min(...hits) : 0;
  const start = Math.max(0, Math.min(first - 20, one.length - EXCERPT_CHARS));
  const body = one.slice(start, start + EXCERPT_CHARS - (start > 0 ? 1 : 0));
  return `${start > 0 ? '…' : ''}${body}`;
}

type Handler = (c: CliClient, a: MemoryArgs, text: string) => Promise<void>;

const filterOf = (a: MemoryArgs) => ({ ...(a.task ? { task_id: a.task } : {}), ...(a.kind ? { kind: a.kind } : {}) });

const handlers: Record<string, Handler> = {
  async list(c, a) {
    const rows = await c.listMemory(filterOf(a));
    if (a.json) return output.json(rows);
    out(
      table(
        rows.map((m) => ({
          id: m.id,
          kind: m.kind,
          scope: m.task_id ?? 'global',
          pinned: m.pinned ? 'pinned' : null,
          content: m.content,
          updated: m.updated_at,
        })),
        ['id', 'kind', 'scope', 'pinned', 'content', 'updated'],
      ),
    );
  },
  async search(c, a, text) {
    if (!text)
      throw new ValidationError('memory search needs words to look for, e.g. alter0 memory search "release script"');
    const rows = await c.listMemory({ ...filterOf(a), q: text });
    if (a.json) return output.json(rows);
    if (rows.length === 0) return out(`no memory matches "${text}"${a.kind ? ` (kind ${a.kind})` : ''}`);
    const words = text.split(/\s+/).filter(Boolean);
    out(
      table(
        rows.map((m) => ({
          id: m.id,
          kind: m.kind,
          task: m.task_id ?? 'global',
          pinned: m.pinned ? 'pinned' : null,
          excerpt: excerpt(m.content, words),
        })),
        ['id', 'kind', 'task', 'pinned', 'excerpt'],
      ),
    );
  },
  async add(c, a, text) {
    if (!text)
      throw new ValidationError('memory add needs the text to remember, e.g. alter0 memory add "use pnpm, never npm"');
    const m = await c.addMemory({ content: text, ...(a.task ? { task_id: a.task } : {}) });
    return a.json ? output.json(m) : printEntry(m);
  },
  async edit(c, a) {
    const [id, ...words] = a.rest;
    if (!id || words.length === 0)
      throw new ValidationError('memory edit needs an id and the new text: alter0 memory edit r_01j... "new text"');
    const m = await c.editMemory(id, words.join(' '));
    return a.json ? output.json(m) : printEntry(m);
  },
  pin: (c, a) => setPin(c, a, true),
  unpin: (c, a) => setPin(c, a, false),
  async rm(c, a) {
    const [id] = a.rest;
    if (!id) throw new ValidationError('memory rm needs the id of an entry (alter0 memory list shows them)');
    const r = await c.removeMemory(id);
    return a.json ? output.json(r) : out(`removed ${r.id}`);
  },
};

async function setPin(c: CliClient, a: MemoryArgs, pinned: boolean): Promise<void> {
  const [id] = a.rest;
  const verb = pinned ? 'pin' : 'unpin';
  if (!id) throw new ValidationError(`memory ${verb} needs the id of an entry (alter0 memory list shows them)`);
  const m = await c.pinMemory(id, pinned);
  return a.json ? output.json(m) : out(`${verb}ned ${m.id}${pinned ? ' (retention keeps it)' : ''}`);
}

export async function memory(a: MemoryArgs): Promise<void> {
  const handler = Object.hasOwn(handlers, a.action) ? handlers[a.action] : undefined;
  if (!handler)
    throw new ValidationError(`unknown memory action ${a.action}; use add, list, search, rm, edit, pin or unpin`);
  await handler(clientFor(a), a, a.rest.join(' ').trim());
}
