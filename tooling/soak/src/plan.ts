// The fault plan of one soak message, carried inside the message text so that the fake agent (a separate
// process spawned by the daemon for each stage) can act on it without any side channel:
//   [soak k=<key> exec=<fault>[:<n>] route=ok|malformed close=no|yes|malformed[ appr=allow|late|deny|none]] <filler>
// The agent reads the marker of the message it is working on and logs every fault it injects.

/**
 * Execute-stage behaviours. `long` is the async long work (not a fault); counted faults (`n`) hit the first n
 * attempts of the message's chain only.
 */
const EXEC_FAULTS = ['ok', 'long', 'slow', 'hang', 'rate_limited', 'unavailable', 'auth'] as const;
export type ExecFault = (typeof EXEC_FAULTS)[number];

/** Every kind of fault the soak injects (as logged by the agent and counted in the report). */
export const FAULT_KINDS = [
  'slow',
  'hang',
  'rate_limited',
  'unavailable',
  'auth',
  'malformed_route',
  'malformed_close',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface MessagePlan {
  /** Unique per message; retries of the message's jobs share it (and so share the fault counter). */
  key: string;
  exec: ExecFault;
  /** `slow`, `long`: milliseconds to sleep; counted faults: how many attempts fail; otherwise 0. */
  n: number;
  route: 'ok' | 'malformed';
  close: 'no' | 'yes' | 'malformed';
  /**
   * The day profile's approvals (day/approvals.ts): the execute stage asks for one tool use and waits; the harness,
   * as owner, allows it at once, late, denies it, or never answers. Absent: nothing is asked.
   */
  appr?: ApprovalPlan;
}

const APPROVAL_PLANS = ['allow', 'late', 'deny', 'none'] as const;
export type ApprovalPlan = (typeof APPROVAL_PLANS)[number];

const MARKER =
  /\[soak k=([a-z0-9-]+) exec=([a-z_]+)(?::(\d+))? route=(ok|malformed) close=(no|yes|malformed)(?: appr=(allow|late|deny|none))?\]/;

export function encodePlan(p: MessagePlan): string {
  const exec = p.exec === 'ok' ? 'ok' : `${p.exec}:${p.n}`;
  const appr = p.appr === undefined ? '' : ` appr=${p.appr}`;
  return `[soak k=${p.key} exec=${exec} route=${p.route} close=${p.close}${appr}]`;
}

export function decodePlan(text: string): MessagePlan | null {
  const m = MARKER.exec(text);
  if (!m) return null;
  const exec = EXEC_FAULTS.find((f) => f === m[2]);
  const route = m[4] === 'malformed' ? 'malformed' : 'ok';
  const close = m[5] === 'yes' ? 'yes' : m[5] === 'malformed' ? 'malformed' : 'no';
  const appr = APPROVAL_PLANS.find((a) => a === m[6]);
  if (exec === undefined || m[1] === undefined) return null;
  return { key: m[1], exec, n: m[3] === undefined ? 0 : Number(m[3]), route, close, ...(appr ? { appr } : {}) };
}

/**
 * The part of a stage's prompt that is the message being worked on: the router and closer prompts also quote
 * other tasks (with their own markers), so only the delimited section that holds this message counts.
 */
export function currentMessage(stage: string, prompt: string): string {
  const header = stage === 'route' ? 'NEW MESSAGE:\n<<<\n' : stage === 'close' ? 'LAST USER MESSAGE:\n<<<\n' : null;
  if (header === null) return prompt;
  const start = prompt.indexOf(header);
  if (start < 0) return '';
  const body = prompt.slice(start + header.length);
  const end = body.indexOf('\n>>>');
  return end < 0 ? body : body.slice(0, end);
}

/** One line of the agent's JSONL log. */
export interface AgentLogLine {
  at: number;
  pid: number;
  gen: number;
  stage: string;
  key: string | null;
  job: string;
  fault: FaultKind | null;
  /** Execute runs only: the job's reply was already stored when this run started (a re-execution). */
  reply_stored?: string;
  /** Execute runs of a plan with `appr` (day profile): the approval asked for and the decision the run got. */
  approval?: { id: string | null; state: string };
}
