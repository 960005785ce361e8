import { describe, expect, it } from 'vitest';
import { answerCommand } from '../src/telegram/answer.js';
import { HELP_TEXT, parseText } from '../src/telegram/commands.js';
import type { TelegramHost } from '../src/telegram/host.js';

describe('parseText', () => {
  it('reads a bare command', () => {
    expect(parseText('/tasks')).toEqual({ kind: 'command', name: 'tasks', args: '' });
  });

  it('reads a command with its text', () => {
    expect(parseText('/new fix the bug')).toEqual({ kind: 'command', name: 'new', args: 'fix the bug' });
  });

  it('reads a command addressed to the bot in a group, dropping @botname', () => {
    expect(parseText('/close@alter0_bot done')).toEqual({ kind: 'command', name: 'close', args: 'done' });
  });

  it('reads a command typed in capitals as the lower-case command', () => {
    expect(parseText('/Cancel')).toEqual({ kind: 'command', name: 'cancel', args: '' });
  });

  it('keeps the lines of a multi-line command text', () => {
    expect(parseText('/new first line\nsecond line')).toEqual({
      kind: 'command',
      name: 'new',
      args: 'first line\nsecond line',
    });
  });

  it('passes plain text to the agent as it was written', () => {
    expect(parseText('please look at the logs')).toEqual({ kind: 'text', text: 'please look at the logs' });
  });

  it('passes text with a slash later on to the agent', () => {
    expect(parseText('see a/b')).toEqual({ kind: 'text', text: 'see a/b' });
  });

  it('passes a lone slash to the agent', () => {
    expect(parseText('/')).toEqual({ kind: 'text', text: '/' });
  });
});

/** A host whose command answers say what they were asked; the rest is never called by answerCommand. */
function fakeHost(over: Partial<TelegramHost> = {}): TelegramHost & { calls: string[] } {
  const calls: string[] = [];
  const unused = (): never => {
    throw new Error('not used by commands');
  };
  return {
    calls,
    cursor: unused,
    commitCursor: unused,
    accept: unused,
    jobOf: unused,
    recordSent: unused,
    busyChats: unused,
    decideApproval: unused,
    refused: unused,
    log: unused,
    tasksText: () => 'open tasks: t_1',
    statusText: async () => 'alter0 is well',
    closeTask: async (taskId, reason) => {
      calls.push(`close ${taskId} ${reason}`);
      return `closed ${taskId}`;
    },
    cancelJob: (jobId) => {
      calls.push(`cancel ${jobId}`);
      return `canceled ${jobId}`;
    },
    retryJob: (jobId) => {
      calls.push(`retry ${jobId}`);
      return `retrying ${jobId}`;
    },
    ...over,
  };
}

const REPLIED = { jobId: 'j_1', taskId: 't_1' };
const cmd = (name: string, args = '') => ({ name, args });

describe('answerCommand', () => {
  it('answers /help and /start with the help text', async () => {
    const host = fakeHost();
    expect(await answerCommand(host, cmd('help'), null)).toBe(HELP_TEXT);
    expect(await answerCommand(host, cmd('start'), null)).toBe(HELP_TEXT);
  });

  it('answers /tasks and /status with what alter0 says', async () => {
    const host = fakeHost();
    expect(await answerCommand(host, cmd('tasks'), null)).toBe('open tasks: t_1');
    expect(await answerCommand(host, cmd('status'), null)).toBe('alter0 is well');
  });

  it('asks to reply to a message for /close, /cancel and /retry sent on their own', async () => {
    const host = fakeHost();
    expect(await answerCommand(host, cmd('close'), null)).toBe(
      'Reply to one of the messages of a job with /close to close its task.',
    );
    expect(await answerCommand(host, cmd('cancel'), null)).toBe(
      'Reply to one of the messages of a job with /cancel to cancel it.',
    );
    expect(await answerCommand(host, cmd('retry'), null)).toBe(
      'Reply to one of the messages of a job with /retry to run it again.',
    );
    expect(host.calls).toEqual([]);
  });

  it('closes the task of the replied-to job, with the reason given or a default one', async () => {
    const host = fakeHost();
    expect(await answerCommand(host, cmd('close', 'done'), REPLIED)).toBe('closed t_1');
    expect(await answerCommand(host, cmd('close'), REPLIED)).toBe('closed t_1');
    expect(host.calls).toEqual(['close t_1 done', 'close t_1 closed from Telegram']);
  });

  it('says a job without a task is still being routed instead of closing anything', async () => {
    const host = fakeHost();
    const answer = await answerCommand(host, cmd('close'), { jobId: 'j_2', taskId: null });
    expect(answer).toBe('That job has no task yet (it is still being routed); try again in a moment.');
    expect(host.calls).toEqual([]);
  });

  it('cancels and retries the replied-to job', async () => {
    const host = fakeHost();
    expect(await answerCommand(host, cmd('cancel'), REPLIED)).toBe('canceled j_1');
    expect(await answerCommand(host, cmd('retry'), REPLIED)).toBe('retrying j_1');
    expect(host.calls).toEqual(['cancel j_1', 'retry j_1']);
  });

  it('tells the owner what went wrong when alter0 cannot do it, instead of failing', async () => {
    const host = fakeHost({
      tasksText: () => {
        throw new Error('the store is closed');
      },
      statusText: async () => {
        throw new Error('status is not available');
      },
      closeTask: async () => {
        throw new Error('task t_1 is closed already');
      },
      cancelJob: () => {
        throw new Error('job j_1 has ended');
      },
      retryJob: () => {
        throw new Error('job j_1 did not fail');
      },
    });
    expect(await answerCommand(host, cmd('tasks'), null)).toBe('the store is closed');
    expect(await answerCommand(host, cmd('status'), null)).toBe('status is not available');
    expect(await answerCommand(host, cmd('close'), REPLIED)).toBe('task t_1 is closed already');
    expect(await answerCommand(host, cmd('cancel'), REPLIED)).toBe('job j_1 has ended');
    expect(await answerCommand(host, cmd('retry'), REPLIED)).toBe('job j_1 did not fail');
  });

  it('answers an unknown command with the help, saying it does not know it', async () => {
    const answer = await answerCommand(fakeHost(), cmd('x'), null);
    expect(answer).toBe(`I do not know /x.\n\n${HELP_TEXT}`);
    expect(answer.startsWith('I do not know /x')).toBe(true);
  });
});
