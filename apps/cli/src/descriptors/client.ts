import type { Argv, CommandModule } from 'yargs';
import { JOB_STATES, LANES } from '@alter0/core';
import type { JobState, Lane } from '@alter0/core';
import type { TaskFilter } from '@alter0/api';

export interface ClientArgs {
  addr?: string;
  json?: boolean;
  config?: string;
  data?: string;
}

/** @alter0/api's TaskFilters, spelled out here so that listing the commands does not load the API's schemas. */
const TASK_FILTERS: readonly TaskFilter[] = ['open', 'closed', 'all'];

export function withClientFlags<T>(y: Argv<T>): Argv<T & ClientArgs> {
  return y
    .option('addr', {
      type: 'string',
      describe: 'URL of the running service (default: $ALTER0_URL, else from the config, http://127.0.0.1:7070)',
    })
    .option('json', { type: 'boolean', describe: 'print the API answer as JSON' })
    .option('config', { type: 'string', describe: 'config file to read the address and token from' })
    .option('data', { type: 'string', describe: 'data directory whose config to read' });
}

type Cmd<A> = CommandModule<object, A & ClientArgs>;
export type SendArgs = ClientArgs & { text: string[]; task?: string; wait?: number };
export type SubmitArgs = ClientArgs & {
  text: string[];
  task?: string;
  lane?: Lane;
  timeout?: number;
  attempts?: number;
};
export type JobsArgs = ClientArgs & { state?: JobState; task?: string; limit?: number };
export type JobArgs = ClientArgs & { id: string; wait?: boolean; timeout?: number };
export type IdArgs = ClientArgs & { id: string };
export type TasksArgs = ClientArgs & { state?: TaskFilter; q?: string; limit?: number };
export type CloseArgs = ClientArgs & { id: string; reason?: string };
export type ChatArgs = ClientArgs & { task?: string };

const send: Cmd<SendArgs> = {
  command: 'send <text..>',
  describe: 'send a message and wait for the reply (routes it to a task unless --task is given)',
  builder: (y) =>
    withClientFlags(y)
      .positional('text', { type: 'string', array: true, demandOption: true })
      .option('task', { type: 'string', describe: 'the task to send it to' })
      .option('wait', { type: 'number', describe: 'seconds to wait for the reply before printing the job id' }),
  handler: async (a) => (await import('../commands/client.js')).send(a),
};

const submit: Cmd<SubmitArgs> = {
  command: 'submit <text..>',
  describe: 'queue a message as a background job and print its id',
  builder: (y) =>
    withClientFlags(y)
      .positional('text', { type: 'string', array: true, demandOption: true })
      .option('task', { type: 'string' })
      .option('lane', { type: 'string', choices: LANES, default: 'background' })
      .option('timeout', { type: 'number', describe: 'job timeout in seconds' })
      .option('attempts', { type: 'number', describe: 'max attempts' }) as Argv<SubmitArgs>,
  handler: async (a) => (await import('../commands/client.js')).submit(a),
};

const jobs: Cmd<JobsArgs> = {
  command: 'jobs',
  describe: 'list jobs, newest first',
  builder: (y) =>
    withClientFlags(y)
      .option('state', { type: 'string', choices: JOB_STATES })
      .option('task', { type: 'string' })
      .option('limit', { type: 'number', default: 30 }),
  handler: async (a) => (await import('../commands/client.js')).jobs(a),
};

const job: Cmd<JobArgs> = {
  command: 'job <id>',
  describe: 'show one job (with --wait: until it finishes)',
  builder: (y) =>
    withClientFlags(y)
      .positional('id', { type: 'string', demandOption: true })
      .option('wait', { type: 'boolean' })
      .option('timeout', { type: 'number', default: 3600, describe: 'seconds --wait waits at most' }),
  handler: async (a) => (await import('../commands/client.js')).job(a),
};

/** A command that posts to one job or task by id (`<name> <id>`); `run` is its handler, loaded when it runs. */
const idCommand = (name: string, describe: string, run: (a: IdArgs) => Promise<void>): Cmd<IdArgs> => ({
  command: `${name} <id>`,
  describe,
  builder: (y) => withClientFlags(y).positional('id', { type: 'string', demandOption: true }),
  handler: run,
});

const tasks: Cmd<TasksArgs> = {
  command: 'tasks',
  describe: 'list tasks, most recently updated first',
  builder: (y) =>
    withClientFlags(y)
      .option('state', { type: 'string', choices: TASK_FILTERS, default: 'open' })
      .option('q', { type: 'string', describe: 'search title and summary' })
      .option('limit', { type: 'number', default: 50 }) as Argv<TasksArgs>,
  handler: async (a) => (await import('../commands/client.js')).tasks(a),
};

const close: Cmd<CloseArgs> = {
  command: 'close <id>',
  describe: 'close a task (recorded as a manual close decision)',
  builder: (y) =>
    withClientFlags(y).positional('id', { type: 'string', demandOption: true }).option('reason', { type: 'string' }),
  handler: async (a) => (await import('../commands/client.js')).close(a),
};

const status: Cmd<object> = {
  command: 'status',
  describe: 'show the status document of the running service',
  builder: (y) => withClientFlags(y),
  handler: async (a) => (await import('../commands/client.js')).status(a),
};

const chat: Cmd<ChatArgs> = {
  command: 'chat',
  describe:
    'an interactive conversation: each line is sent to the task of the previous reply (/new starts over, /quit ends)',
  builder: (y) => withClientFlags(y).option('task', { type: 'string', describe: 'start in this task' }),
  handler: async (a) => (await import('../commands/client.js')).chat(a),
};

export const clientCommands = [
  send,
  submit,
  jobs,
  job,
  idCommand('cancel', 'cancel a queued or running job', async (a) => (await import('../commands/client.js')).cancel(a)),
  idCommand('retry', 'retry a failed or canceled job (prints the new job id)', async (a) =>
    (await import('../commands/client.js')).retry(a),
  ),
  tasks,
  idCommand('task', 'show a task with its conversation and decisions', async (a) =>
    (await import('../commands/client.js')).task(a),
  ),
  close,
  idCommand('reopen', 'reopen a closed task', async (a) => (await import('../commands/client.js')).reopen(a)),
  status,
  chat,
] as CommandModule[];
