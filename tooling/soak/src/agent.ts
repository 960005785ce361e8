// The soak's fault-injecting stand-in agent for alter0's `command` executor: prompt on stdin, reply on stdout,
// stage in ALTER0_STAGE. What it does is decided by the soak marker in the message (see plan.ts); every run is
// logged to SOAK_AGENT_LOG so the harness counts the faults that were really injected.
//
// The daemon is started with `--command "node agent.js --soak-run <id>"`: the argv marker lets the harness
// find every agent process of its run in /proc, and SOAK_GEN (inherited from the daemon's environment) tells
// which daemon lifetime spawned it.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { askApproval } from './day/approval-ask.js';
import type { AskedApproval } from './day/approval-ask.js';
import { currentMessage, decodePlan } from './plan.js';
import type { AgentLogLine, FaultKind, MessagePlan } from './plan.js';

const stage = process.env.ALTER0_STAGE ?? 'execute';
const logFile = process.env.SOAK_AGENT_LOG ?? '';
const stateDir = process.env.SOAK_STATE_DIR ?? '';
const gen = Number(process.env.SOAK_GEN ?? 0);
const hangMaxMs = Number(process.env.SOAK_HANG_MAX_MS ?? 3_600_000);

// The daemon may be killed while we run: a write to the closed pipe is the end of this run, not a crash report.
process.stdout.on('error', () => process.exit(141));
process.stderr.on('error', () => process.exit(141));

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const prompt = Buffer.concat(chunks).toString('utf8');
const plan = decodePlan(currentMessage(stage, prompt));
/** The approval this run asked for (a plan with `appr`), logged with the run. */
let asked: AskedApproval | null = null;

/**
 * Exactly-once, seen from the agent (docs/architecture.md, invariant 9): an execute run of a job whose reply is
 * already stored must never start. Read from the committed database when the run starts, so the check needs no
 * clock (the daemon's may be faked) and no timing: the reply id, or null.
 */
function storedReply(): string | null {
  const file = process.env.SOAK_DB ?? '';
  const job = process.env.ALTER0_JOB_ID ?? '';
  if (file === '' || job === '' || stage !== 'execute') return null;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 2000');
      const row = db.prepare('SELECT reply_message_id AS r FROM jobs WHERE id = ?').get(job) as
        { r: string | null } | undefined;
      return row?.r ?? null;
    } finally {
      db.close();
    }
  } catch {
    // Unreadable now (a held or full disk): this run is not judged, the next one is.
    return null;
  }
}
const replyAtStart = storedReply();

function log(fault: FaultKind | null): void {
  if (logFile === '') return;
  const line: AgentLogLine = {
    at: Date.now(),
    pid: process.pid,
    gen,
    stage,
    key: plan?.key ?? null,
    job: process.env.ALTER0_JOB_ID ?? '',
    fault,
    ...(asked !== null ? { approval: asked } : {}),
    ...(replyAtStart !== null ? { reply_stored: replyAtStart } : {}),
  };
  fs.appendFileSync(logFile, `${JSON.stringify(line)}\n`);
}

/** True while this message's chain still owes a counted fault; consumes one. */
function takeFault(p: MessagePlan): boolean {
  if (stateDir === '') return true;
  const file = path.join(stateDir, p.key);
  let used = 0;
  try {
    used = Number(fs.readFileSync(file, 'utf8')) || 0;
  } catch {
    used = 0;
  }
  if (used >= p.n) return false;
  fs.writeFileSync(file, String(used + 1));
  return true;
}

function fail(fault: FaultKind, stderr: string): never {
  log(fault);
  process.stderr.write(`${stderr}\n`);
  process.exit(1);
}

if (stage === 'route') {
  if (plan?.route === 'malformed') {
    log('malformed_route');
    process.stdout.write('I think this belongs to { "decision": maybe');
  } else {
    log(null);
    process.stdout.write(
      JSON.stringify({
        decision: 'new',
        task_id: null,
        confidence: 0.95,
        reason: 'each soak message starts its own task',
      }),
    );
  }
  process.exit(0);
}

if (stage === 'close') {
  if (plan?.close === 'malformed') {
    log('malformed_close');
    process.stdout.write('close?? {"close": tru');
  } else {
    log(null);
    const close = plan?.close === 'yes';
    process.stdout.write(
      JSON.stringify({
        close,
        confidence: 0.95,
        reason: close ? 'the soak plan closes this task' : 'the soak plan keeps it open',
      }),
    );
  }
  process.exit(0);
}

// execute
if (plan?.appr !== undefined) {
  // Asks for a made-up tool use and waits for the owner (the harness); a dead daemon ends the run (the restart
  // denies the approval, and the next attempt asks again).
  asked = await askApproval(plan.key, process.env, Number(process.env.SOAK_APPROVAL_MAX_MS ?? 120_000));
  if (asked.state === 'unreachable') {
    log(null);
    process.stderr.write('soak agent: alter0 is unreachable while waiting for an approval\n');
    process.exit(1);
  }
  // The question was never recorded (refused for longer than the wait, or no run token): like `alter0 approval
  // request`, which exits non-zero unless allowed, the run does not go on unasked — it fails and the next attempt
  // asks again. Going on made a job succeed with no approval at all (the sixth day's one such job: its question met
  // the full disk for the whole wait).
  if (asked.state.startsWith('refused_') || asked.state === 'no_token') {
    log(null);
    process.stderr.write(`soak agent: alter0 did not take the approval request (${asked.state})\n`);
    process.exit(1);
  }
}
if (plan !== null) {
  switch (plan.exec) {
    case 'slow':
      log('slow');
      await sleep(plan.n);
      break;
    case 'long':
      await sleep(plan.n);
      break;
    case 'hang':
      if (takeFault(plan)) {
        log('hang');
        // Until the job's timeout kills the group; bounded so a lost agent cannot live for ever.
        await sleep(hangMaxMs);
        process.stderr.write(`soak agent: hang ended after ${hangMaxMs} ms without being killed\n`);
        process.exit(1);
      }
      break;
    case 'rate_limited':
      if (takeFault(plan)) fail('rate_limited', 'error: 429 Too Many Requests (soak fault)');
      break;
    case 'unavailable':
      if (takeFault(plan)) fail('unavailable', 'error: 503 overloaded (soak fault)');
      break;
    case 'auth':
      if (takeFault(plan)) fail('auth', 'error: 401 unauthorized (soak fault)');
      break;
    case 'ok':
      break;
  }
}
if (plan?.exec !== 'slow') log(null);
const turn = Number(process.env.ALTER0_SESSION_ID?.split(':')[1] ?? 0) + 1;
const session = `${process.env.ALTER0_SESSION_ID?.split(':')[0] || `soak-${process.pid}`}:${turn}`;
process.stderr.write(`ALTER0_SESSION_ID=${session}\n`);
process.stdout.write(`soak reply ${turn} for ${plan?.key ?? 'unmarked message'}\n`);
