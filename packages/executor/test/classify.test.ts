import { describe, expect, it } from 'vitest';
import type { ErrorClass } from '@alter0/core';
import { classifyFailure, classifyStatus, failureMessage } from '../src/classify.js';
import type { FailureEvidence } from '../src/classify.js';

const table: Array<[string, FailureEvidence, ErrorClass]> = [
  // structured payloads (claude's result object)
  ['status 401', { exitCode: 1, stderr: '', payload: { status: 401 } }, 'auth'],
  ['status 403', { exitCode: 1, stderr: '', payload: { status: 403 } }, 'auth'],
  ['status 429', { exitCode: 1, stderr: '', payload: { status: 429 } }, 'rate_limited'],
  ['status 500', { exitCode: 1, stderr: '', payload: { status: 500 } }, 'unavailable'],
  ['status 529', { exitCode: 1, stderr: '', payload: { status: 529 } }, 'unavailable'],
  ['status 408', { exitCode: 1, stderr: '', payload: { status: 408 } }, 'unavailable'],
  [
    'status 400 falls to text',
    { exitCode: 1, stderr: '', payload: { status: 400, message: 'prompt too long' } },
    'exit',
  ],
  ['type authentication_error', { exitCode: 1, stderr: '', payload: { type: 'authentication_error' } }, 'auth'],
  ['type rate_limit_error', { exitCode: 1, stderr: '', payload: { type: 'rate_limit_error' } }, 'rate_limited'],
  ['type overloaded_error', { exitCode: 1, stderr: '', payload: { type: 'overloaded_error' } }, 'unavailable'],
  ['status beats text', { exitCode: 1, stderr: 'rate limit', payload: { status: 401 } }, 'auth'],
  // claude's messages (test/fixtures/claude)
  [
    'claude not logged in',
    { exitCode: 1, stderr: '', payload: { message: 'Not logged in · Please run /login' } },
    'auth',
  ],
  [
    'claude invalid key',
    { exitCode: 1, stderr: '', payload: { message: 'Invalid API key · Fix external API key' } },
    'auth',
  ],
  [
    'claude malformed',
    {
      exitCode: 1,
      stderr: '',
      payload: { message: 'API Error: API returned an empty or malformed response (HTTP 200)' },
    },
    'unavailable',
  ],
  [
    'claude 500 text',
    { exitCode: 1, stderr: '', payload: { message: 'API Error: 500 Internal server error.' } },
    'unavailable',
  ],
  [
    'claude 429 text',
    { exitCode: 1, stderr: '', payload: { message: 'API Error: Request rejected (429) · Rate limited' } },
    'rate_limited',
  ],
  // codex's messages (test/fixtures/codex)
  [
    'codex 401',
    {
      exitCode: 1,
      stderr: '',
      payload: {
        message: 'unexpected status 401 Unauthorized: invalid x-api-key, url: http://127.0.0.1:1/v1/responses',
      },
    },
    'auth',
  ],
  [
    'codex 429',
    { exitCode: 1, stderr: '', payload: { message: 'exceeded retry limit, last status: 429 Too Many Requests' } },
    'rate_limited',
  ],
  [
    'codex 5xx',
    {
      exitCode: 1,
      stderr: '',
      payload: { message: 'We’re currently experiencing high demand, which may cause temporary errors.' },
    },
    'unavailable',
  ],
  [
    'codex stream cut',
    {
      exitCode: 1,
      stderr: '',
      payload: { message: 'stream disconnected before completion: stream closed before response.completed' },
    },
    'unavailable',
  ],
  [
    'codex no key',
    { exitCode: 1, stderr: '', payload: { message: 'Missing environment variable: `OPENAI_API_KEY`.' } },
    'auth',
  ],
  [
    'codex offline',
    {
      exitCode: 1,
      stderr: '',
      payload: { message: 'Reconnecting... waiting for network (Connection failed: error sending request)' },
    },
    'unavailable',
  ],
  // plain stderr (command programs and crashes)
  ['stderr ECONNREFUSED', { exitCode: 1, stderr: 'Error: connect ECONNREFUSED 127.0.0.1:443' }, 'unavailable'],
  ['stderr overloaded', { exitCode: 1, stderr: 'upstream overloaded, try later' }, 'unavailable'],
  ['stderr HTTP 503', { exitCode: 2, stderr: 'request failed: HTTP 503' }, 'unavailable'],
  ['stderr too many requests', { exitCode: 1, stderr: 'Too Many Requests' }, 'rate_limited'],
  ['stderr unauthorized', { exitCode: 1, stderr: 'Unauthorized' }, 'auth'],
  ['auth beats retry noise', { exitCode: 1, stderr: 'ECONNRESET, retrying\nstatus: 401 Unauthorized' }, 'auth'],
  ['shell 127', { exitCode: 127, stderr: 'sh: 1: my-agent: not found' }, 'not_found'],
  ['shell 126', { exitCode: 126, stderr: 'sh: 1: ./x: Permission denied' }, 'not_found'],
  ['plain failure', { exitCode: 1, stderr: 'TypeError: x is undefined' }, 'exit'],
  ['numbers are not statuses', { exitCode: 1, stderr: 'processed 500 files, failed at line 429' }, 'exit'],
  ['nothing at all', { exitCode: 3, stderr: '' }, 'exit'],
  ['killed by a signal', { exitCode: null, stderr: '' }, 'exit'],
];

describe('classifyFailure', () => {
  it.each(table)('%s', (_name, evidence, expected) => {
    expect(classifyFailure(evidence)).toBe(expected);
  });
});

describe('classifyStatus', () => {
  it.each([
    [null, null],
    [200, null],
    [400, null],
    [404, null],
    [401, 'auth'],
    [429, 'rate_limited'],
    [503, 'unavailable'],
  ] as const)('%s → %s', (status, cls) => {
    expect(classifyStatus(status)).toBe(cls);
  });
});

describe('failureMessage', () => {
  it('says what failed and what to do, per kind', () => {
    expect(failureMessage('claude', 'claude', 'auth', 'Not logged in', 1)).toBe(
      'claude is not logged in or its credentials were refused (Not logged in); run `claude` once interactively to log in (or set ANTHROPIC_API_KEY for the service)',
    );
    expect(failureMessage('codex', 'codex', 'auth', '', 1)).toMatch(/run `codex login`/);
    expect(failureMessage('command', 'my-agent', 'exit', 'boom\nsecond line', 4)).toBe(
      'my-agent failed with exit code 4 (boom); see the stderr tail for the cause',
    );
    expect(failureMessage('claude', 'claude', 'rate_limited', 'x', 1)).toMatch(/retried with backoff/);
  });
});
