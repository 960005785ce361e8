import { useCallback, useEffect, type ReactNode } from 'react';
import { componentAdvice, type ComponentName, type ComponentStatus, type StatusDocument } from '@alter0/api';
import { useApp } from '../app-context.js';
import { ErrorBox, Loading, StateBadge } from '../ui/feedback.js';
import { formatDuration } from '../ui/format.js';
import { Ago, Lasting, WithCode } from '../ui/time.js';
import { useLoad } from '../ui/use-load.js';
import { ExecutorBody, GatewayBody, QueueBody, SchedulerBody, StorageBody } from './StatusParts.js';

/** Status is not pushed over SSE, so the page polls while it is open. */
const POLL_MS = 5_000;

/** Each component's name for people, and what it is for, in the order the page shows them (the wide ones apart). */
const COMPONENTS: Record<ComponentName, { title: string; role: string }> = {
  gateway: { title: 'Gateway', role: 'takes messages in and sends job notices out' },
  queue: { title: 'Queue', role: 'holds jobs until a worker runs them' },
  executor: { title: 'Executor', role: 'the agent CLI that does the work' },
  storage: { title: 'Storage', role: 'the database and the disk it is on' },
  scheduler: { title: 'Scheduler', role: 'maintenance and your schedules' },
};
const ORDER = Object.keys(COMPONENTS);

export function StatusPage() {
  const { api } = useApp();
  const status = useLoad(useCallback((signal: AbortSignal) => api.status({ signal }), [api]));
  const { reload } = status;
  useEffect(() => {
    const t = setInterval(reload, POLL_MS);
    return () => clearInterval(t);
  }, [reload]);

  return (
    <section className="panel status-page" aria-labelledby="status-title">
      <h2 id="status-title">Status</h2>
      {status.error && <ErrorBox message={status.error} onRetry={reload} />}
      {!status.data && status.loading && <Loading what="status" />}
      {status.data && <StatusView doc={status.data} />}
    </section>
  );
}

function StatusView({ doc }: { doc: StatusDocument }) {
  const now = Date.now();
  const components = Object.entries(doc.components).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)) as [
    ComponentName,
    ComponentStatus,
  ][];
  return (
    <>
      <Summary doc={doc} components={components} now={now} />
      <div className="components">
        {components.map(([name, c]) => (
          <ComponentCard key={name} name={name} c={c} now={now}>
            <ComponentBody name={name} doc={doc} now={now} />
          </ComponentCard>
        ))}
      </div>
    </>
  );
}

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i < 0 ? ORDER.length : i;
}

function titleOf(name: string): string {
  return Object.hasOwn(COMPONENTS, name) ? COMPONENTS[name as ComponentName].title : name;
}

/** The overall state in words: all well, or which components need the owner. */
function Summary({
  doc,
  components,
  now,
}: {
  doc: StatusDocument;
  components: [ComponentName, ComponentStatus][];
  now: number;
}) {
  const trouble = components.filter(([, c]) => c.state !== 'ok').map(([name]) => titleOf(name));
  const headline =
    trouble.length === 0
      ? 'Everything works.'
      : `${trouble.join(', ')} ${trouble.length === 1 ? 'needs' : 'need'} attention: see below for what to do.`;
  return (
    <div className="status-summary" data-state={doc.state}>
      <p className="status-headline">
        <StateBadge state={doc.state} /> {headline}
      </p>
      <p className="meta">
        alter0 {doc.version} · {doc.uptime_s < 1 ? 'just started' : `up ${formatDuration(doc.uptime_s * 1000)}`}{' '}
        (started <Ago iso={doc.started_at} now={now} />) · checked every {POLL_MS / 1000} s
      </p>
    </div>
  );
}

/** A component: its state (word and colour), what the state means, what to do when it is not ok, its last error. */
function ComponentCard({
  name,
  c,
  now,
  children,
}: {
  name: ComponentName;
  c: ComponentStatus;
  now: number;
  children: ReactNode;
}) {
  const advice = componentAdvice(name, c);
  const role = Object.hasOwn(COMPONENTS, name) ? COMPONENTS[name].role : null;
  return (
    <article
      className={`card component comp-${c.state}${name === 'gateway' || name === 'scheduler' ? ' component-wide' : ''}`}
      data-component={name}
      data-state={c.state}
      aria-labelledby={`component-${name}`}
    >
      <header className="card-head">
        <h3 id={`component-${name}`}>{titleOf(name)}</h3>
        <StateBadge state={c.state} />
        <span className="meta">
          {c.state} for <Lasting iso={c.since} now={now} />
        </span>
      </header>
      {role && <p className="meta component-role">{role}</p>}
      <p className="component-meaning">{advice.meaning}</p>
      {advice.action && (
        <p className="component-action">
          <strong>What to do:</strong> <WithCode text={advice.action} />
        </p>
      )}
      {c.last_error && (
        <p className={c.state === 'ok' ? 'component-error recovered' : 'component-error'}>
          {c.state === 'ok' ? 'Last error (recovered since)' : 'Last error'}, <Ago iso={c.last_error.at} now={now} />:{' '}
          {c.last_error.message}
        </p>
      )}
      {children}
    </article>
  );
}

function ComponentBody({ name, doc, now }: { name: ComponentName; doc: StatusDocument; now: number }) {
  const c = doc.components;
  switch (name) {
    case 'gateway':
      return <GatewayBody d={c.gateway.details} now={now} />;
    case 'queue':
      return <QueueBody d={c.queue.details} />;
    case 'executor':
      return <ExecutorBody d={c.executor.details} />;
    case 'scheduler':
      return <SchedulerBody d={c.scheduler.details} now={now} />;
    case 'storage':
      return <StorageBody d={c.storage.details} />;
  }
}
