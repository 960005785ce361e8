import type { CommandModule } from 'yargs';
import type { ClientArgs } from './client.js';
import { withClientFlags } from './client.js';

export type MemoryArgs = ClientArgs & { action: string; rest: string[]; task?: string };

/** `alter0 memory add TEXT [--task ID] | list | rm ID | edit ID TEXT`: what new agent sessions are told first. */
const memory: CommandModule<object, MemoryArgs> = {
  command: 'memory <action> [rest..]',
  describe: 'what every new agent session is told first: memory add TEXT [--task ID] | list | rm ID | edit ID TEXT',
  builder: (y) =>
    withClientFlags(y)
      .positional('action', { type: 'string', choices: ['add', 'list', 'rm', 'edit'], demandOption: true })
      .positional('rest', { type: 'string', array: true, default: [] })
      .option('task', { type: 'string', describe: "add: the entry is this task's only" }),
  handler: async (a) => (await import('../commands/memory.js')).memory(a),
};

export const memoryCommands = [memory] as CommandModule[];
