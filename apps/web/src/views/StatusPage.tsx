import { useCallback, useEffect, type ReactNode } from 'react';
import type { ComponentStatus, StatusDocument } from '@alter0/api';
import { useApp } from '../app-context.js';
import { ErrorBox, Loading, StateBadge } from '../ui/feedback.js';
import { formatBytes, formatMs, formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

/** Status is not pushed over SSE, so the page polls while it is open. */
const POLL_MS = 5_000;
const ORDER = ['gateway', 'queue', 'executor', 'scheduler', 'storage'];

type GatewayDetails = StatusDocument['components']['gateway']['details'];
type Channel = GatewayDetails['channels'][number];

export function StatusPage() {
  const { api } = useApp();
  const status = useLoad(useCallback((signal: AbortSignal) => api.status({ signal }), [api]));
  const { reload } = status;
  useEffect(() => {
    const t = setInterval(reload, POLL_MS);
    return () => clearInterval(t);
  }, [reload]);

  return (
    <section className="panel" aria-labelledby="status-title">
      <h2 id="status-title">Status</h2>
      {status.error && <ErrorBox message={status.error} onRetry={reload} />}
      {!status.data && status.loading && <Loading what="status" />}
      {status.data && <StatusView doc={status.data} />}
    </section>
  );
}

function StatusView({ doc }: { doc: StatusDocument }) {
  const components = Object.entries(doc.components).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  return (
    <>
      <p className="status-summary" data-state={doc.state}>
        <StateBadge state={doc.state} /> alter0 {doc.version} ·{' '}
        {doc.uptime_s < 1 ? 'just started' : `up ${formatMs(doc.uptime_s * 1000)}`} · started{' '}
        {formatTime(doc.started_at)}
      </p>
      <div className="components">
        {components.map(([name, c]) =>
          name === 'gateway' ? (
            // The whole row: its channels table has six columns.
            <ComponentCard
              key={name}
              name={name}
              c={c}
              wide
              details={<GatewayView d={doc.components.gateway.details} />}
            />
          ) : (
            <ComponentCard key={name} name={name} c={c} />
          ),
        )}
      </div>
    </>
  );
}

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i < 0 ? ORDER.length : i;
}

/** `details`: a component's own rendering of its details, instead of the generic one; `wide`: a whole row. */
function ComponentCard({
  name,
  c,
  details,
  wide = false,
}: {
  name: string;
  c: ComponentStatus;
  details?: ReactNode;
  wide?: boolean;
}) {
  return (
    <article
      className={`card component comp-${c.state}${wide ? ' component-wide' : ''}`}
      data-component={name}
      data-state={c.state}
      aria-label={`${name}: ${c.state}`}
    >
      <header className="card-head">
        <h3>{name}</h3>
        <StateBadge state={c.state} />
        <span className="meta">since {formatTime(c.since)}</span>
      </header>
      {c.last_error && (
        <p className="job-error">
          last error ({formatTime(c.last_error.at)}): {c.last_error.message}
        </p>
      )}
      {details ?? (c.details && Object.keys(c.details).length > 0 && <Details value={c.details} />)}
    </article>
  );
}

/** The gateway's scalars as usual, then a row per channel and a line for the outbox. */
function GatewayView({ d }: { d: GatewayDetails }) {
  const { channels, outbox, ...rest } = d;
  return (
    <dl className="details">
      <DetailEntries value={rest} />
      <div className="wide">
        <dt>channels</dt>
        <dd>
          <ChannelTable channels={channels} />
        </dd>
      </div>
      <div className="wide">
        <dt>outbox</dt>
        <dd className="outbox" data-pending={outbox.pending} data-dead={outbox.dead}>
          {outboxLine(outbox)}
        </dd>
      </div>
    </dl>
  );
}

function outboxLine(o: GatewayDetails['outbox']): string {
  const oldest = o.oldest_pending_age_ms === null ? '' : ` (oldest ${formatMs(o.oldest_pending_age_ms)} ago)`;
  const failing = o.pending > 0 && o.last_error ? `; last failure: ${o.last_error}` : '';
  return `${o.pending} waiting${oldest}, ${o.dead} given up${failing}`;
}

function ChannelTable({ channels }: { channels: Channel[] }) {
  if (channels.length === 0) return <>none</>;
  return (
    <div className="table-wrap">
      <table aria-label="Channels">
        <thead>
          <tr>
            <th scope="col">name</th>
            <th scope="col">state</th>
            <th scope="col">since</th>
            <th scope="col">last error</th>
            <th scope="col">restarts</th>
            <th scope="col">next retry</th>
          </tr>
        </thead>
        <tbody>
          {channels.map((ch) => (
            <tr key={ch.name} data-channel={ch.name} data-state={ch.state}>
              <th scope="row">{ch.name}</th>
              <td>
                <StateBadge state={ch.state} />
              </td>
              <td>{formatTime(ch.since)}</td>
              <td className="wrap last-error">
                {ch.last_error ? (
                  <>
                    {ch.last_error.message} <span className="meta">({formatTime(ch.last_error.at)})</span>
                  </>
                ) : (
                  '—'
                )}
              </td>
              <td>{ch.restarts}</td>
              <td>{formatTime(ch.next_retry_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Byte counts and ages are easier to read formatted; the key name says which is which. */
function scalar(key: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (key.endsWith('_bytes')) return formatBytes(v);
    if (key.endsWith('_ms')) return formatMs(v);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return /^\d{4}-\d\d-\d\dT/.test(v) ? formatTime(v) : v;
  return JSON.stringify(v);
}

/**
 * Renders a component's `details` whatever their shape: scalars as a list, objects of scalars
 * inline, arrays of objects (executors, maintenance jobs) as tables with state columns coloured.
 */
function Details({ value }: { value: Record<string, unknown> }) {
  return (
    <dl className="details">
      <DetailEntries value={value} />
    </dl>
  );
}

function DetailEntries({ value }: { value: Record<string, unknown> }) {
  return Object.entries(value).map(([k, v]) => (
    <div key={k} className={Array.isArray(v) || isRecord(v) ? 'wide' : undefined}>
      <dt>{k.replaceAll('_', ' ')}</dt>
      <dd>
        <DetailValue k={k} v={v} />
      </dd>
    </div>
  ));
}

function DetailValue({ k, v }: { k: string; v: unknown }) {
  if (Array.isArray(v)) {
    if (v.length === 0) return <>none</>;
    if (v.every(isRecord)) return <DetailTable rows={v} />;
    return <>{v.map((x) => scalar(k, x)).join(', ')}</>;
  }
  if (isRecord(v)) {
    if (Object.values(v).some((x) => Array.isArray(x) || isRecord(x))) return <Details value={v} />;
    return (
      <>
        {Object.entries(v)
          .map(([kk, x]) => `${kk.replaceAll('_', ' ')}: ${scalar(kk, x)}`)
          .join(' · ')}
      </>
    );
  }
  if (k === 'state' && typeof v === 'string') return <StateBadge state={v} />;
  return <>{scalar(k, v)}</>;
}

function DetailTable({ rows }: { rows: Record<string, unknown>[] }) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c}>{c.replaceAll('_', ' ')}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} data-state={typeof r.state === 'string' ? r.state : undefined}>
              {cols.map((c) => (
                <td key={c}>
                  <DetailValue k={c} v={r[c]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
