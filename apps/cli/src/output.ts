import { terminalJson, terminalText } from './terminal-text.js';

interface Sink {
  write(s: string): unknown;
}

/**
 * The CLI's one printing seam for what the service answers (replies, titles, summaries, reasons, stderr tails,
 * error messages: text a model or an agent wrote). Human text is stripped of escape sequences and control
 * characters; `--json` output stays JSON.
 */
export interface Output {
  /** Human-readable text on stdout; a newline is added when missing. */
  text(s: string): void;
  /** Human-readable text on stderr (notes and errors); a newline is added when missing. */
  note(s: string): void;
  /** A value as indented JSON on stdout. */
  json(v: unknown): void;
  /** A line that is already JSON (e.g. a log record), on stdout. */
  jsonLine(line: string): void;
}

const line = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);

function createOutput(streams: { stdout: Sink; stderr: Sink }): Output {
  return {
    text: (s) => void streams.stdout.write(line(terminalText(s))),
    note: (s) => void streams.stderr.write(line(terminalText(s))),
    json: (v) => void streams.stdout.write(line(terminalJson(JSON.stringify(v, null, 2)))),
    jsonLine: (l) => void streams.stdout.write(line(terminalJson(l))),
  };
}

/** The process's own stdout and stderr. */
export const output: Output = createOutput(process);
