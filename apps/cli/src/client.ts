import { Alter0Error } from '@alter0/core';
import { ApiContractError, ApiRequestError, ApiUnreachableError, createApiClient } from '@alter0/api';
import type { ApiClient, ApiClientOptions } from '@alter0/api';

/** An API error answer, or a failure to reach the service, with a message that says what to do. */
export class ClientError extends Alter0Error {
  constructor(
    code: string,
    message: string,
    readonly status: number | null,
  ) {
    super(code, message);
  }
}

/** The calls the CLI makes: @alter0/api's client, each failure a ClientError in the CLI's words. */
export type CliClient = Omit<ApiClient, 'events'>;

export interface CliClientOptions {
  /** The service's URL as the user gave it (--addr, ALTER0_URL or the config): quoted in the messages. */
  addr: string;
  token: string | null;
  fetch?: ApiClientOptions['fetch'];
}

export function createCliClient(opts: CliClientOptions): CliClient {
  const api = createApiClient({
    baseUrl: opts.addr,
    token: opts.token,
    fetch: opts.fetch,
    headers: { 'x-alter0-channel': 'cli' },
  });
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(...args);
      } catch (err) {
        throw clientErrorOf(err, opts.addr);
      }
    };
  return {
    sendMessage: guard(api.sendMessage),
    submitJob: guard(api.submitJob),
    listJobs: guard(api.listJobs),
    getJob: guard(api.getJob),
    cancelJob: guard(api.cancelJob),
    retryJob: guard(api.retryJob),
    listTasks: guard(api.listTasks),
    getTask: guard(api.getTask),
    closeTask: guard(api.closeTask),
    reopenTask: guard(api.reopenTask),
    status: guard(api.status),
    decisions: guard(api.decisions),
    healthz: guard(api.healthz),
    readyz: guard(api.readyz),
    listApprovals: guard(api.listApprovals),
    getApproval: guard(api.getApproval),
    raiseApproval: guard(api.raiseApproval),
    allowApproval: guard(api.allowApproval),
    denyApproval: guard(api.denyApproval),
    listMemory: guard(api.listMemory),
    addMemory: guard(api.addMemory),
    editMemory: guard(api.editMemory),
    pinMemory: guard(api.pinMemory),
    removeMemory: guard(api.removeMemory),
    listSchedules: guard(api.listSchedules),
    getSchedule: guard(api.getSchedule),
    addSchedule: guard(api.addSchedule),
    pauseSchedule: guard(api.pauseSchedule),
    resumeSchedule: guard(api.resumeSchedule),
    runSchedule: guard(api.runSchedule),
    removeSchedule: guard(api.removeSchedule),
    usage: guard(api.usage),
    stats: guard(api.stats),
  };
}

/**
 * The api client's typed failures as the CLI reports them (an Alter0Error prints without "unexpected error",
 * exit 1). The daemon's own error messages pass through; anything else (an abort, a bug) is left as it is.
 */
export function clientErrorOf(err: unknown, addr: string): unknown {
  if (err instanceof ApiUnreachableError) {
    return new ClientError(
      'unreachable',
      `cannot reach alter0 at ${addr} (${networkCause(err)}). Is it running? Start it with \`alter0 serve\`, or pass --addr.`,
      null,
    );
  }
  if (err instanceof ApiRequestError) return new ClientError(err.code, err.message, err.status);
  if (err instanceof ApiContractError) {
    return new ClientError(
      'contract',
      `${err.message}. Is this alter0 CLI the same version as the service at ${addr}?`,
      err.status,
    );
  }
  return err;
}

/**
 * Why a request got no answer, as briefly as Node can say it: the system's code (ECONNREFUSED, ENOTFOUND, …)
 * that undici keeps in the fetch error's cause, else the fetch error's message.
 */
export function networkCause(err: ApiUnreachableError): string {
  const fetchError: unknown = err.cause;
  const code = (fetchError as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === 'string') return code;
  return fetchError instanceof Error ? fetchError.message : String(fetchError);
}
