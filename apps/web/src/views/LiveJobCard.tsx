import { useLiveJob } from '../live/use-live.js';
import { JobCard } from '../ui/JobCard.js';
import { ErrorBox, Loading } from '../ui/feedback.js';

/** A job card that follows one job id through live events. */
export function LiveJobCard({ id, onRetried }: { id: string; onRetried?: (newJobId: string) => void }) {
  const { data, error, reload } = useLiveJob(id);
  if (data) return <JobCard job={data} onRetried={onRetried} />;
  if (error) return <ErrorBox message={error} onRetry={reload} />;
  return <Loading what={`job ${id}`} />;
}
