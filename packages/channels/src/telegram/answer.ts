import { errorMessage } from '@alter0/core';
import { HELP_TEXT } from './commands.js';
import type { TelegramHost } from './host.js';

type Replied = { jobId: string; taskId: string | null } | null;

const NEEDS_REPLY = (cmd: string, what: string): string =>
  `Reply to one of the messages of a job with /${cmd} to ${what}.`;

/** The answer to a command (never /new: that one becomes a job). Errors are said to the owner, not thrown. */
export async function answerCommand(
  host: TelegramHost,
  cmd: { name: string; args: string },
  replied: Replied,
): Promise<string> {
  try {
    switch (cmd.name) {
      case 'start':
      case 'help':
        return HELP_TEXT;
      case 'tasks':
        return host.tasksText();
      case 'status':
        return await host.statusText();
      case 'close':
        if (!replied) return NEEDS_REPLY('close', 'close its task');
        if (!replied.taskId) return 'That job has no task yet (it is still being routed); try again in a moment.';
        return await host.closeTask(replied.taskId, cmd.args || 'closed from Telegram');
      case 'cancel':
        return replied ? host.cancelJob(replied.jobId) : NEEDS_REPLY('cancel', 'cancel it');
      case 'retry':
        return replied ? host.retryJob(replied.jobId) : NEEDS_REPLY('retry', 'run it again');
      default:
        return `I do not know /${cmd.name}.\n\n${HELP_TEXT}`;
    }
  } catch (err) {
    return errorMessage(err);
  }
}
