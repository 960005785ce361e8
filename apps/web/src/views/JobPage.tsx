import { LiveJobCard } from './LiveJobCard.js';

/** One job on its own (#/jobs/{id}), kept current by live events: where other pages link a job. */
export function JobPage({ id }: { id: string }) {
  return (
    <section className="panel job-page" aria-labelledby="job-title">
      <h2 id="job-title">
        Job <code className="id">{id}</code>
      </h2>
      <p className="hint">
        <a href="#/jobs">All jobs</a>
      </p>
      <div className="cards">
        <LiveJobCard key={id} id={id} />
      </div>
    </section>
  );
}
