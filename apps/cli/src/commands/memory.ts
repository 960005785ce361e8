import { ValidationError } from '@alter0/core';
import type { MemoryEntry } from '@alter0/api';
import { table } from '../format.js';
import { output } from '../output.js';
import type { MemoryArgs } from '../descriptors/memory.js';
import { clientFor } from './client.js';

const out = (s: string): void => output.text(s);

function printEntry(m: MemoryEntry): void {
  out(`${m.id}  ${m.task_id ? `task ${m.task_id}` : 'global'}  ${m.content}`);
}

export async function memory(a: MemoryArgs): Promise<void> {
  const c = clientFor(a);
  const text = a.rest.join(' ').trim();
  switch (a.action) {
    case 'list': {
      const rows = await c.listMemory(a.task ? { task_id: a.task } : {});
      if (a.json) return output.json(rows);
      out(
        table(
          rows.map((m) => ({ id: m.id, scope: m.task_id ?? 'global', content: m.content, updated: m.updated_at })),
          ['id', 'scope', 'content', 'updated'],
        ),
      );
      return;
    }
    case 'add': {
      if (!text)
        throw new ValidationError(
          'memory add needs the text to remember, e.g. alter0 memory add "use pnpm, never npm"',
        );
      const m = await c.addMemory({ content: text, ...(a.task ? { task_id: a.task } : {}) });
      return a.json ? output.json(m) : printEntry(m);
    }
    case 'edit': {
      const [id, ...words] = a.rest;
      if (!id || words.length === 0)
        throw new ValidationError('memory edit needs an id and the new text: alter0 memory edit r_01j... "new text"');
      const m = await c.editMemory(id, words.join(' '));
      return a.json ? output.json(m) : printEntry(m);
    }
    case 'rm': {
      const [id] = a.rest;
      if (!id) throw new ValidationError('memory rm needs the id of an entry (alter0 memory list shows them)');
      const r = await c.removeMemory(id);
      return a.json ? output.json(r) : out(`removed ${r.id}`);
    }
    default:
      throw new ValidationError(`unknown memory action ${a.action}; use add, list, rm or edit`);
  }
}
