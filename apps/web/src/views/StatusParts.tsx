import type { ReactNode } from 'react';
import type { StatusDocument } from '@alter0/api';
import { StateBadge } from '../ui/feedback.js';
import { formatDuration, formatEvery, formatSize, plural, shortId } from '../ui/format.js';
import { ScrollBox } from '../ui/ScrollBox.js';
import { Ago } from '../ui/time.js';

// Each component's details, for people: durations and ages in words (exact times in titles), sizes in units. The
// tables turn into one card per row where their box is narrow (styles.css, .stack) and scroll inside their own box
// rather than widen the page.

type Components = StatusDocument['components'];
type Details<K extends keyof Components> = Components[K]['details'];

function Fact({ label, children, className }: { label: string; children: ReactNode; className?: string }) {
  return (
    <div className={className}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function GatewayBody({ d, now }: { d: Details<'gateway'>; now: number }) {
  return (
    <>
      <dl className="status-facts">
        <Fact label="Address">{d.url ? <code>{d.url}</code> : '—'}</Fact>
        <Fact label="Taking messages">{d.accepting ? 'yes' : 'no (shutting down)'}</Fact>
        <Fact label="Job notices" className="wide">
          <span className="outbox" data-pending={d.outbox.pending} data-dead={d.outbox.dead}>
            {outboxLine(d.outbox)}
          </span>
        </Fact>
      </dl>
      <h4>Channels</h4>
      <ChannelTable channels={d.channels} now={now} />
    </>
  );
}

function outboxLine(o: Details<'gateway'>['outbox']): string {
  const given = o.dead > 0 ? `; ${plural(o.dead, 'notice')} given up after every retry` : '';
  if (o.pending === 0) return `all delivered${given}`;
  const oldest = o.oldest_pending_age_ms === null ? '' : ` (the oldest for ${formatDuration(o.oldest_pending_age_ms)})`;
  const failing = o.last_error ? `; last failure: ${o.last_error}` : '';
  return `${plural(o.pending, 'notice')} waiting to be delivered${oldest}${given}${failing}`;
}

function ChannelTable({ channels, now }: { channels: Details<'gateway'>['channels']; now: number }) {
  if (channels.length === 0) return <p className="empty">No channels.</p>;
  return (
    <ScrollBox label="Channels">
      <table className="stack" aria-label="Channels">
        <thead>
          <tr>
            <th scope="col">channel</th>
            <th scope="col">state</th>
            <th scope="col">since</th>
            <th scope="col">restarts</th>
            <th scope="col">next try</th>
            <th scope="col">last error</th>
          </tr>
        </thead>
        <tbody>
          {channels.map((ch) => (
            <tr key={ch.name} data-channel={ch.name} data-state={ch.state}>
              <th scope="row">{ch.name}</th>
              <td data-label="state">
                <StateBadge state={ch.state} />
              </td>
              <td data-label="since">
                <Ago iso={ch.since} now={now} />
              </td>
              <td data-label="restarts">{ch.restarts === 0 ? 'none' : ch.restarts}</td>
              <td data-label="next try">
                <Ago iso={ch.next_retry_at} now={now} />
              </td>
              <td data-label="last error" className="wrap last-error">
                {ch.last_error ? (
                  <>
                    {ch.last_error.message}{' '}
                    <span className="meta">
                      (<Ago iso={ch.last_error.at} now={now} />)
                    </span>
                  </>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

export function QueueBody({ d }: { d: Details<'queue'> }) {
  const waiting = d.depth.interactive + d.depth.background;
  const oldest = Math.max(d.oldest_queued_age_ms.interactive ?? 0, d.oldest_queued_age_ms.background ?? 0);
  const busy = d.workers.busy.interactive + d.workers.busy.background;
  const total = d.workers.total.interactive + d.workers.total.background;
  const jobs = Object.entries(d.jobs_by_state).filter(([, n]) => n > 0);
  return (
    <dl className="status-facts">
      <Fact label="Waiting">
        {waiting === 0
          ? 'nothing'
          : `${plural(waiting, 'job')} (${d.depth.interactive} interactive, ${d.depth.background} background), the oldest for ${formatDuration(oldest)}`}
      </Fact>
      <Fact label="Workers busy">
        {busy} of {total} (interactive {d.workers.busy.interactive} of {d.workers.total.interactive}, background{' '}
        {d.workers.busy.background} of {d.workers.total.background})
      </Fact>
      <Fact label="Jobs kept" className="wide">
        {jobs.length === 0 ? 'none yet' : jobs.map(([state, n]) => `${n} ${state}`).join(', ')}
      </Fact>
    </dl>
  );
}

export function ExecutorBody({ d }: { d: Details<'executor'> }) {
  if (d.executors.length === 0) return <p className="empty">No executors configured.</p>;
  return (
    <ul className="executor-list">
      {d.executors.map((e) => (
        <li key={e.kind} data-executor={e.kind} data-state={e.state}>
          <p className="executor-head">
            <strong>{e.kind}</strong> <StateBadge state={e.state} />
          </p>
          <dl className="status-facts">
            <Fact label="Program" className="wide">
              {e.path ? <code>{e.path}</code> : 'not found'}
            </Fact>
            <Fact label="Version">{e.version ?? 'unknown'}</Fact>
            <Fact label="Failures in a row">
              {e.consecutive_failures === 0
                ? 'none'
                : `${e.consecutive_failures}${e.last_error_class ? ` (last: ${e.last_error_class})` : ''}`}
            </Fact>
            {e.probe_error && (
              <Fact label="Cannot start" className="wide">
                {e.probe_error}
              </Fact>
            )}
          </dl>
        </li>
      ))}
    </ul>
  );
}

export function SchedulerBody({ d, now }: { d: Details<'scheduler'>; now: number }) {
  return (
    <>
      <h4>Maintenance</h4>
      <MaintenanceTable jobs={d.jobs} now={now} />
      <h4>Your schedules</h4>
      <OwnerSchedules s={d.schedules} now={now} />
    </>
  );
}

function MaintenanceTable({ jobs, now }: { jobs: Details<'scheduler'>['jobs']; now: number }) {
  if (jobs.length === 0) return <p className="empty">No maintenance jobs.</p>;
  return (
    <ScrollBox label="Maintenance jobs">
      <table className="stack" aria-label="Maintenance jobs">
        <thead>
          <tr>
            <th scope="col">job</th>
            <th scope="col">how often</th>
            <th scope="col">last run</th>
            <th scope="col">next run</th>
            <th scope="col">result</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.name} data-job={j.name} data-failures={j.consecutive_failures}>
              <th scope="row">{j.name.replaceAll('_', ' ')}</th>
              <td data-label="how often">{formatEvery(j.every)}</td>
              <td data-label="last run">
                {j.running ? 'running now' : <Ago iso={j.last_run} now={now} empty="not yet" />}
              </td>
              <td data-label="next run">
                <Ago iso={j.next_run} now={now} />
              </td>
              <td data-label="result" className="wrap">
                <MaintenanceResult j={j} now={now} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

function MaintenanceResult({ j, now }: { j: Details<'scheduler'>['jobs'][number]; now: number }) {
  if (j.consecutive_failures > 0)
    return (
      <>
        <StateBadge state="failed" label={`failed ${j.consecutive_failures}× in a row`} /> {j.last_error ?? ''}{' '}
        {j.last_error_at && (
          <span className="meta">
            (<Ago iso={j.last_error_at} now={now} />)
          </span>
        )}
      </>
    );
  if (j.last_success) return <StateBadge state="succeeded" label="ok" />;
  return <>—</>;
}

function OwnerSchedules({ s, now }: { s: Details<'scheduler'>['schedules']; now: number }) {
  if (s.count === 0)
    return (
      <p className="status-schedules">
        None yet. <a href="#/schedules">Add one on the schedules page</a>.
      </p>
    );
  return (
    <>
      <p className="status-schedules">
        {plural(s.count, 'schedule')}: {s.active} active, {s.paused === 0 ? 'none' : s.paused} paused
        {s.next_run_at && (
          <>
            ; the next runs <Ago iso={s.next_run_at} now={now} />
          </>
        )}
        . <a href="#/schedules">Open the schedules page</a>.
      </p>
      {s.paused_ids.length > 0 && (
        <ul className="status-paused">
          {s.paused_ids.map((p) => (
            <li key={p.id}>
              <code title={p.id}>{shortId(p.id)}</code> paused{p.reason ? `: ${p.reason}` : ''}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export function StorageBody({ d }: { d: Details<'storage'> }) {
  return (
    <dl className="status-facts">
      <Fact label="Free disk">{d.free_bytes === null ? 'unknown' : `${formatSize(d.free_bytes)} free`}</Fact>
      <Fact label="Database">
        {formatSize(d.db_bytes)}
        {d.wal_bytes > 0 && <> (+ {formatSize(d.wal_bytes)} not yet checkpointed)</>}
      </Fact>
      <Fact label="Schema version">{d.schema_version}</Fact>
      <Fact label="Data directory" className="wide">
        <code>{d.data_dir}</code>
      </Fact>
    </dl>
  );
}
