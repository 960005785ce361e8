import type { CommandModule } from 'yargs';
import type { ClientArgs } from './client.js';
import { withClientFlags } from './client.js';

type Cmd<A> = CommandModule<object, A & ClientArgs>;
export type ApprovalsArgs = ClientArgs & { all?: boolean };
export type ApproveArgs = ClientArgs & { id: string; always?: boolean };
export type DenyArgs = ClientArgs & { id: string; reason?: string };
export type RequestArgs = { action: string; tool: string; input?: string; timeout?: string; json?: boolean };

const approvals: Cmd<ApprovalsArgs> = {
  command: 'approvals',
  describe: 'tool uses that wait for your answer (--all: every recent approval)',
  builder: (y) => withClientFlags(y).option('all', { type: 'boolean', describe: 'decided ones too' }),
  handler: async (a) => (await import('../commands/approvals.js')).list(a),
};

const approve: Cmd<ApproveArgs> = {
  command: 'approve <id>',
  describe: 'allow a tool use an agent waits for',
  builder: (y) =>
    withClientFlags(y).positional('id', { type: 'string', demandOption: true }).option('always', {
      type: 'boolean',
      describe: 'also allow this tool use for the rest of the task',
    }),
  handler: async (a) => (await import('../commands/approvals.js')).approve(a),
};

const deny: Cmd<DenyArgs> = {
  command: 'deny <id>',
  describe: 'refuse a tool use an agent waits for (the agent is told the reason)',
  builder: (y) =>
    withClientFlags(y).positional('id', { type: 'string', demandOption: true }).option('reason', { type: 'string' }),
  handler: async (a) => (await import('../commands/approvals.js')).deny(a),
};

/** For agents' scripts: uses the run's own ALTER0_URL, ALTER0_JOB_ID and ALTER0_APPROVAL_TOKEN. */
const request: CommandModule<object, RequestArgs> = {
  command: 'approval <action>',
  describe: "inside an agent's run: ask the owner before a tool use; exits 0 when allowed, 1 when not",
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['request'], demandOption: true })
      .option('tool', { type: 'string', demandOption: true, describe: 'what the run wants to use' })
      .option('input', { type: 'string', describe: 'its input, as JSON' })
      .option('timeout', {
        type: 'string',
        describe: "stop waiting after this long (e.g. 10m); default: the approval's own timeout",
      })
      .option('json', { type: 'boolean', describe: 'print the approval as JSON' }),
  handler: async (a) => (await import('../commands/approvals.js')).request(a),
};

/** Started by claude, per run, from the MCP config the claude executor writes: not for people (hidden). */
const mcp: CommandModule = {
  command: 'mcp-approvals',
  describe: false,
  handler: async () => (await import('../commands/mcp-approvals.js')).mcpApprovals(),
};

export const approvalCommands = [approvals, approve, deny, request, mcp] as CommandModule[];
