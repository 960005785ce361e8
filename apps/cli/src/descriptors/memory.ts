import type { CommandModule } from 'yargs';
import type { MemoryEntry } from '@alter0/api';
import type { ClientArgs } from './client.js';
import { withClientFlags } from './client.js';

export type MemoryArgs = ClientArgs & {
  action: string;
  rest: string[];
  task?: string;
  kind?: MemoryEntry['kind'];
};

/** @alter0/api's MEMORY_KINDS, spelled out here so that listing the commands does not load the API's schemas. */
const KINDS: readonly MemoryEntry['kind'][] = ['note', 'task_summary'];

const ACTIONS = ['add', 'list', 'search', 'rm', 'edit', 'pin', 'unpin'];

/**
 * `alter0 memory add TEXT [--task ID] | list [--kind K] | search QUERY [--kind K] | rm ID | edit ID TEXT |
 * pin ID | unpin ID`: what new agent sessions are told first, and the summaries of closed tasks.
 */
const memory: CommandModule<object, MemoryArgs> = {
  command: 'memory <action> [rest..]',
  describe:
    'what every new agent session is told first, and what closed tasks did: memory add TEXT [--task ID] | ' +
    'list [--kind K] | search QUERY [--kind K] | rm ID | edit ID TEXT | pin ID | unpin ID',
  builder: (y) =>
    withClientFlags(y)
      .positional('action', { type: 'string', choices: ACTIONS, demandOption: true })
      .positional('rest', { type: 'string', array: true, default: [] })
      .option('task', { type: 'string', describe: "add: the entry is this task's only; list, search: that task's" })
      .option('kind', {
        type: 'string',
        choices: KINDS,
        describe: "list, search: only the owner's notes or only the summaries of closed tasks",
      }),
  handler: async (a) => (await import('../commands/memory.js')).memory(a),
};

export const memoryCommands = [memory] as CommandModule[];
