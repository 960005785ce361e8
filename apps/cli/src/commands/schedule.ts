import { ValidationError } from '@alter0/core';
import type { Schedule } from '@alter0/api';
import { table } from '../format.js';
import { output } from '../output.js';
import type { ScheduleArgs } from '../descriptors/schedule.js';
import type { CliClient } from '../client.js';
import { clientFor } from './client.js';

const out = (s: string): void => output.text(s);

function line(s: Schedule): string {
  const next = s.next_run_at ? `next ${s.next_run_at}` : s.state;
  const why = s.paused_reason ? ` (${s.paused_reason})` : '';
  return `${s.id}  ${s.description}  ${s.state}${why}  ${next}  ${s.text}`;
}

type Handler = (c: CliClient, a: ScheduleArgs, text: string) => Promise<void>;

function idOf(a: ScheduleArgs, verb: string): string {
  const [id] = a.rest;
  if (!id) throw new ValidationError(`schedule ${verb} needs the id of a schedule (alter0 schedule list shows them)`);
  return id;
}

const handlers: Record<string, Handler> = {
  async list(c, a) {
    const rows = await c.listSchedules();
    if (a.json) return output.json(rows);
    if (rows.length === 0) return out('no schedules; add one with alter0 schedule add --every 24h "…"');
    out(
      table(
        rows.map((s) => ({
          id: s.id,
          when: s.description,
          state: s.state,
          next: s.next_run_at,
          last: s.last_result === null ? null : `${s.last_result}${s.last_fired_at ? ` (${s.last_fired_at})` : ''}`,
          task: s.task_id ?? 'routed',
          text: s.text,
        })),
        ['id', 'when', 'state', 'next', 'last', 'task', 'text'],
      ),
    );
  },
  async show(c, a) {
    const s = await c.getSchedule(idOf(a, 'show'));
    if (a.json) return output.json(s);
    out(line(s));
    if (s.runs.length === 0) return out('no runs yet');
    out(
      table(
        s.runs.map((r) => ({ slot: r.slot_at, job: r.job_id, result: r.result ?? 'running', ended: r.ended_at })),
        ['slot', 'job', 'result', 'ended'],
      ),
    );
  },
  async add(c, a, text) {
    if (!text) {
      throw new ValidationError(
        'schedule add needs the message each firing sends, e.g. alter0 schedule add --every 24h "summarise yesterday\'s commits"',
      );
    }
    const s = await c.addSchedule({
      text,
      ...(a.cron === undefined ? {} : { cron: a.cron }),
      ...(a.every === undefined ? {} : { every: a.every }),
      ...(a.at === undefined ? {} : { at: a.at }),
      ...(a.tz === undefined ? {} : { tz: a.tz }),
      ...(a.task === undefined ? {} : { task_id: a.task }),
      ...(a.lane === undefined ? {} : { lane: a.lane }),
    });
    return a.json ? output.json(s) : out(`added ${line(s)}`);
  },
  async rm(c, a) {
    const r = await c.removeSchedule(idOf(a, 'rm'));
    return a.json ? output.json(r) : out(`removed ${r.id}`);
  },
  async pause(c, a) {
    const s = await c.pauseSchedule(idOf(a, 'pause'));
    return a.json ? output.json(s) : out(`paused ${s.id}; alter0 schedule resume ${s.id} starts it again`);
  },
  async resume(c, a) {
    const s = await c.resumeSchedule(idOf(a, 'resume'));
    return a.json ? output.json(s) : out(`resumed ${line(s)}`);
  },
  async 'run-now'(c, a) {
    const r = await c.runSchedule(idOf(a, 'run-now'));
    return a.json
      ? output.json(r)
      : out(`started job ${r.job_id} for ${r.schedule.id}; alter0 job ${r.job_id} shows it`);
  },
};

export async function schedule(a: ScheduleArgs): Promise<void> {
  const handler = Object.hasOwn(handlers, a.action) ? handlers[a.action] : undefined;
  if (!handler) {
    throw new ValidationError(`unknown schedule action ${a.action}; use add, list, show, rm, pause, resume or run-now`);
  }
  await handler(clientFor(a), a, a.rest.join(' ').trim());
}
