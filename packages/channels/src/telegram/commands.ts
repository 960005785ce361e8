/** The bot's commands, as Telegram's command menu shows them (setMyCommands). */
export const BOT_COMMANDS: readonly { command: string; description: string }[] = [
  { command: 'tasks', description: 'open tasks' },
  { command: 'status', description: 'is alter0 well, and what is queued' },
  { command: 'new', description: '/new <text>: start a new task with this message' },
  { command: 'close', description: 'reply to a message: close its task [reason]' },
  { command: 'cancel', description: 'reply to a message: cancel its job' },
  { command: 'retry', description: 'reply to a message: run its failed job again' },
  { command: 'help', description: 'what the bot does' },
];

export const HELP_TEXT = [
  'Send a message and alter0 works on it: it goes to the open task it belongs to, or starts a new one. The answer comes back here.',
  '',
  'Reply to one of my messages to continue that task.',
  '/new <text> — start a new task with this text',
  '/tasks — the open tasks',
  '/status — is alter0 well, and what is queued',
  'Reply to a message with:',
  '/close [reason] — close its task',
  '/cancel — cancel its job',
  '/retry — run its failed job again',
].join('\n');

export type Parsed = { kind: 'text'; text: string } | { kind: 'command'; name: string; args: string };

/** A leading `/command` (with `@botname` in groups) is a command; anything else is a message for the agent. */
export function parseText(text: string): Parsed {
  const m = /^\/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!m) return { kind: 'text', text };
  return { kind: 'command', name: (m[1] ?? '').toLowerCase(), args: (m[2] ?? '').trim() };
}
