import { useCallback, useEffect, useMemo, useState, type MouseEvent, type ReactNode } from 'react';
import { authHeaders, createConsoleApi } from './api/client.js';
import type { TokenStore } from './api/token.js';
import { AppContext, type AppServices } from './app-context.js';
import { LiveBus } from './live/bus.js';
import { useLiveApprovals } from './live/approvals.js';
import { pausedAfterFailures, useLiveSchedules } from './live/schedules.js';
import { connectLive, type EventSourceLike, type LiveState } from './live/connect.js';
import { openFetchEventSource } from './live/fetch-source.js';
import { Empty } from './ui/feedback.js';
import { useHashRoute, type Route } from './ui/use-hash-route.js';
import { ActivityPage } from './views/ActivityPage.js';
import { Announcer } from './views/Announcer.js';
import { ApprovalsPage } from './views/ApprovalsPage.js';
import { Composer, type ReplyTo } from './views/Composer.js';
import { JobPage } from './views/JobPage.js';
import { JobsPage } from './views/JobsPage.js';
import { MemoryPage } from './views/MemoryPage.js';
import { SchedulesPage } from './views/SchedulesPage.js';
import { StatusPage } from './views/StatusPage.js';
import { TaskList } from './views/TaskList.js';
import { TaskView } from './views/TaskView.js';
import { TokenPrompt } from './views/TokenPrompt.js';

const LIVE_LABEL: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};

export interface AppProps {
  token: TokenStore;
  /** Prefix of API paths; '' = same origin (the daemon serves the console). */
  base?: string;
}

export function App({ token, base = '' }: AppProps) {
  const bus = useMemo(() => new LiveBus(), []);
  const [reloadToken, setReloadToken] = useState(0);
  const [replyTo, setReplyToState] = useState<ReplyTo | null>(null);
  const [focusToken, setFocusToken] = useState(0);
  const [needToken, setNeedToken] = useState(false);
  const [tokenVersion, setTokenVersion] = useState(0);
  const route = useHashRoute();
  const askForToken = useCallback(() => setNeedToken(true), []);
  const reload = useCallback(() => setReloadToken((n) => n + 1), []);
  const api = useMemo(() => createConsoleApi({ base, token, onUnauthorized: askForToken }), [base, token, askForToken]);
  const live = useLiveEvents({ bus, base, token, tokenVersion, onUnauthorized: askForToken, onReconnected: reload });

  const saveToken = (t: string): void => {
    token.set(t);
    setNeedToken(false);
    setTokenVersion((n) => n + 1);
    reload();
  };

  const services = useMemo<AppServices>(
    () => ({
      api,
      bus,
      reloadToken,
      setReplyTo: (t) => {
        setReplyToState(t);
        if (t) setFocusToken((n) => n + 1);
      },
    }),
    [api, bus, reloadToken],
  );

  return (
    <AppContext.Provider value={services}>
      <a className="skip-link" href="#content" onClick={skipToContent}>
        Skip to content
      </a>
      <TopBar route={route} live={live} onRefresh={reload} />
      {/* The page's name in a class: on a phone the tasks pages dock the composer at the bottom (styles.css). */}
      <main className={`layout page-${route.page}`}>
        <aside className="side">
          <Composer replyTo={replyTo} focusToken={focusToken} />
        </aside>
        <div className="content" id="content" tabIndex={-1}>
          {needToken && <TokenPrompt onSave={saveToken} />}
          <Page route={route} />
        </div>
      </main>
      <Announcer />
    </AppContext.Provider>
  );
}

/** The skip link moves the focus to the page's content; following its #content would change the route (the hash). */
function skipToContent(e: MouseEvent<HTMLAnchorElement>): void {
  e.preventDefault();
  document.getElementById('content')?.focus();
}

interface LiveEventsOptions {
  bus: LiveBus;
  base: string;
  token: TokenStore;
  /** Bumped when the token changes: the stream is opened again with it. */
  tokenVersion: number;
  /** Both kept stable by the caller (useCallback): a new one reopens the stream. */
  onUnauthorized(): void;
  onReconnected(): void;
}

/** Keeps GET /api/events open while mounted, fanning its events out on `bus`; returns the connection's state. */
function useLiveEvents({
  bus,
  base,
  token,
  tokenVersion,
  onUnauthorized,
  onReconnected,
}: LiveEventsOptions): LiveState {
  const [live, setLive] = useState<LiveState>('connecting');

  useEffect(() => {
    const ac = new AbortController();
    const open = (url: string): EventSourceLike =>
      // The browser's EventSource cannot send Authorization; with a token, read the stream over fetch.
      token.get()
        ? openFetchEventSource(url, authHeaders(token), undefined, (status) => status === 401 && onUnauthorized())
        : new EventSource(url);
    connectLive(
      `${base}/api/events`,
      {
        onJob: (j) => bus.emitJob(j),
        onTask: (t) => bus.emitTask(t),
        onApproval: (a) => bus.emitApproval(a),
        onState: setLive,
        onReconnected,
      },
      ac.signal,
      open,
    );
    return () => ac.abort();
  }, [bus, base, token, tokenVersion, onUnauthorized, onReconnected]);
  return live;
}

function TopBar({ route, live, onRefresh }: { route: Route; live: LiveState; onRefresh: () => void }) {
  return (
    <header className="topbar">
      <h1>alter0</h1>
      <nav aria-label="Sections">
        <NavLink route={route} page="tasks" label="Tasks" />
        <NavLink route={route} page="jobs" label="Jobs" />
        <NavLink route={route} page="approvals" label="Approvals" />
        <NavLink route={route} page="memory" label="Memory" />
        <NavLink route={route} page="schedules" label="Schedules" badge={<SchedulesBadge />} />
        <NavLink route={route} page="activity" label="Activity" />
        <NavLink route={route} page="status" label="Status" />
      </nav>
      <ApprovalsBadge />
      <span className="spacer" />
      <span className={`live live-${live}`} role="status" data-live={live}>
        <span className="dot" aria-hidden="true" />
        {LIVE_LABEL[live]}
      </span>
      <button type="button" className="btn small" onClick={onRefresh}>
        Refresh
      </button>
    </header>
  );
}

/** How many approvals wait for the owner, on every page, live; a link to the approvals page. */
function ApprovalsBadge() {
  const { data } = useLiveApprovals('pending');
  // Until the first list arrives the count is unknown: nothing rather than a wrong 0.
  if (!data) return null;
  const n = data.length;
  const what = `${n === 1 ? 'approval' : 'approvals'} waiting`;
  // The number is what shows; its name ("3 approvals waiting") is the number and the hidden words after it.
  return (
    <a className={`approvals-badge${n > 0 ? ' waiting' : ''}`} href="#/approvals" title={`${n} ${what}`} data-count={n}>
      {n}
      <span className="visually-hidden"> {what}</span>
    </a>
  );
}

/** How many schedules the daemon paused because their jobs kept failing; nothing while there is none. */
function SchedulesBadge() {
  // No timer here: a pause after failures follows a job's end, which the live events tell.
  const { data } = useLiveSchedules();
  const n = data?.filter(pausedAfterFailures).length ?? 0;
  if (n === 0) return null;
  const what = 'paused after failures';
  return (
    <span className="nav-count" title={`${n} ${what}`} data-count={n}>
      {n}
      <span className="visually-hidden"> {what}</span>
    </span>
  );
}

function NavLink({
  route,
  page,
  label,
  badge,
}: {
  route: Route;
  page: Route['page'];
  label: string;
  /** A count shown in the link, after its name. */
  badge?: ReactNode;
}) {
  return (
    <a href={`#/${page}`} aria-current={route.page === page ? 'page' : undefined}>
      {label}
      {badge}
    </a>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'jobs':
      return route.jobId ? <JobPage key={route.jobId} id={route.jobId} /> : <JobsPage />;
    case 'approvals':
      return <ApprovalsPage />;
    case 'memory':
      return <MemoryPage />;
    case 'schedules':
      return <SchedulesPage />;
    case 'activity':
      return <ActivityPage />;
    case 'status':
      return <StatusPage />;
    case 'tasks':
      return (
        <div className="split">
          <TaskList selectedId={route.taskId} />
          {route.taskId ? (
            <TaskView key={route.taskId} id={route.taskId} />
          ) : (
            <section className="panel">
              <Empty>Pick a task to see its conversation, jobs and decisions.</Empty>
            </section>
          )}
        </div>
      );
  }
}
