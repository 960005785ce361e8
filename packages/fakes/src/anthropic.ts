import type { Behaviour, StreamErrorType } from './behaviour.js';
import { httpError, splitText } from './behaviour.js';
import type { Dialect, ExchangeContext, ModelFake } from './server.js';
import { fakeId, holdOpen, pause, sendEvent, sendJson, startEventStream, startFake } from './server.js';

/**
 * A fake Anthropic Messages API (`POST /v1/messages`, streaming and not) on 127.0.0.1, answering
 * the way api.anthropic.com does: same event sequence, same error bodies and statuses.
 * Point the real `claude` CLI at it with ANTHROPIC_BASE_URL=fake.url (see claudeEnv).
 */
export function startAnthropicFake(opts: { signal?: AbortSignal } = {}): Promise<ModelFake> {
  return startFake(anthropicDialect, opts);
}

const ERROR_TYPES: Record<number, [type: string, message: string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

const STREAM_ERRORS: Record<StreamErrorType, [type: string, message: string]> = {
  overloaded: ['overloaded_error', 'Overloaded'],
  rate_limited: ['rate_limit_error', 'Rate limited'],
  server_error: ['api_error', 'Internal server error'],
};

function errorBody(type: string, message: string, requestId: string): unknown {
  return { type: 'error', error: { type, message }, request_id: requestId };
}

const anthropicDialect: Dialect = {
  isModelCall: (method, path) => method === 'POST' && path === '/v1/messages',

  async answerModelCall(ctx, behaviour) {
    const call = openCall(ctx);
    switch (behaviour.kind) {
      case 'http_error':
        return answerHttpError(call, behaviour);
      case 'hang':
        if (behaviour.headers) startEventStream(ctx, call.headers);
        await holdOpen(ctx);
        return;
      case 'reply':
        return answerReply(call, behaviour);
      case 'tool_call':
        return answerToolCall(call, behaviour);
      case 'malformed':
        return answerMalformed(call);
      case 'truncated':
        return answerTruncated(call);
      case 'stream_error':
        return answerStreamError(call, behaviour);
    }
  },

  answerOther(ctx: ExchangeContext) {
    const { method, path } = ctx.record;
    if (method === 'POST' && path === '/v1/messages/count_tokens') {
      sendJson(ctx, 200, { input_tokens: Math.ceil(ctx.record.rawBody.length / 4) });
      return;
    }
    const requestId = fakeId('req_');
    sendJson(ctx, 404, errorBody('not_found_error', `${method} ${path} is not served by the alter0 fake`, requestId), {
      'request-id': requestId,
    });
  },

  whenExhausted: (seq) =>
    httpError(400, {
      message: `alter0 fake: no scripted behaviour left for request #${seq}; add one with fake.script([...])`,
    }),
};

type BehaviourOf<K extends Behaviour['kind']> = Extract<Behaviour, { kind: K }>;

/** One model call being answered: what every answer needs of the request. */
interface Call {
  ctx: ExchangeContext;
  requestId: string;
  headers: Record<string, string>;
  model: string;
  stream: boolean;
  inputTokens: number;
}

function openCall(ctx: ExchangeContext): Call {
  const requestId = fakeId('req_');
  const body = asRecord(ctx.record.body);
  return {
    ctx,
    requestId,
    headers: { 'request-id': requestId },
    model: typeof body['model'] === 'string' ? body['model'] : 'claude-fake',
    stream: body['stream'] === true,
    inputTokens: Math.ceil(ctx.record.rawBody.length / 4),
  };
}

async function answerHttpError({ ctx, headers, requestId }: Call, behaviour: BehaviourOf<'http_error'>): Promise<void> {
  if (!(await pause(behaviour.delayMs, ctx.signal))) return;
  const [type, message] = ERROR_TYPES[behaviour.status] ?? ['api_error', `HTTP ${behaviour.status}`];
  const extra: Record<string, string> = { ...headers };
  if (behaviour.retryAfterS !== null) extra['retry-after'] = String(behaviour.retryAfterS);
  sendJson(ctx, behaviour.status, errorBody(type, behaviour.message ?? message, requestId), extra);
}

/** A whole (non-streamed) message, as api.anthropic.com answers without `stream`. */
function wholeMessage(
  call: Call,
  id: string,
  content: unknown[],
  stopReason: string,
  outputTokens: number,
): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: call.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: usage(call.inputTokens, outputTokens),
  };
}

async function answerReply(call: Call, behaviour: BehaviourOf<'reply'>): Promise<void> {
  const { ctx, headers, model, inputTokens } = call;
  if (!(await pause(behaviour.delayMs, ctx.signal))) return;
  const messageId = fakeId('msg_01');
  const outputTokens = Math.max(1, Math.ceil(behaviour.text.length / 4));
  if (!call.stream) {
    sendJson(
      ctx,
      200,
      wholeMessage(call, messageId, [{ type: 'text', text: behaviour.text }], 'end_turn', outputTokens),
      headers,
    );
    return;
  }
  startEventStream(ctx, headers);
  const events: [string, unknown][] = [
    ['message_start', messageStart(messageId, model, inputTokens)],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['ping', { type: 'ping' }],
    ...splitText(behaviour.text, behaviour.chunks).map((piece): [string, unknown] => [
      'content_block_delta',
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } },
    ]),
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    [
      'message_delta',
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: outputTokens },
      },
    ],
    ['message_stop', { type: 'message_stop' }],
  ];
  for (const [event, data] of events) {
    if (!sendEvent(ctx, event, data)) return;
    if (!(await pause(behaviour.chunkDelayMs, ctx.signal))) return;
  }
  ctx.res.end();
}

function answerToolCall(call: Call, behaviour: BehaviourOf<'tool_call'>): void {
  const { ctx, headers, model, inputTokens } = call;
  const messageId = fakeId('msg_01');
  const block = { type: 'tool_use', id: fakeId('toolu_01'), name: behaviour.name, input: behaviour.input };
  if (!call.stream) {
    sendJson(ctx, 200, wholeMessage(call, messageId, [block], 'tool_use', 20), headers);
    return;
  }
  startEventStream(ctx, headers);
  const events: [string, unknown][] = [
    ['message_start', messageStart(messageId, model, inputTokens)],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { ...block, input: {} } }],
    [
      'content_block_delta',
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(behaviour.input) },
      },
    ],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    [
      'message_delta',
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 20 } },
    ],
    ['message_stop', { type: 'message_stop' }],
  ];
  for (const [event, data] of events) if (!sendEvent(ctx, event, data)) return;
  ctx.res.end();
}

function answerMalformed({ ctx, headers, model, inputTokens, stream }: Call): void {
  if (!stream) {
    ctx.res.writeHead(200, { 'content-type': 'application/json', ...headers });
    ctx.res.end('{"id":"msg_01broken","type":"message","content":[{"type":"text","te');
    return;
  }
  startEventStream(ctx, headers);
  sendEvent(ctx, 'message_start', messageStart(fakeId('msg_01'), model, inputTokens));
  sendEvent(ctx, 'content_block_delta', '{"type":"content_block_delta","index":0,"delta":{not json');
  ctx.res.end();
}

async function answerTruncated({ ctx, headers, model, inputTokens, stream }: Call): Promise<void> {
  if (!stream) {
    ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096', ...headers });
    ctx.res.write('{"id":"msg_01cut","type":"message","role":"assistant","content":[{"type":"text","text":"par');
    ctx.res.destroy();
    return;
  }
  startEventStream(ctx, headers);
  sendEvent(ctx, 'message_start', messageStart(fakeId('msg_01'), model, inputTokens));
  sendEvent(ctx, 'content_block_start', {
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'text', text: '' },
  });
  sendEvent(ctx, 'content_block_delta', {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text: 'partial ' },
  });
  // Let the bytes leave before the socket is cut, as when a proxy drops the connection.
  await pause(20, ctx.signal);
  ctx.res.destroy();
}

function answerStreamError(
  { ctx, headers, model, inputTokens, stream, requestId }: Call,
  behaviour: BehaviourOf<'stream_error'>,
): void {
  const [type, message] = STREAM_ERRORS[behaviour.errorType];
  if (!stream) {
    sendJson(
      ctx,
      behaviour.errorType === 'rate_limited' ? 429 : behaviour.errorType === 'overloaded' ? 529 : 500,
      errorBody(type, message, requestId),
      headers,
    );
    return;
  }
  startEventStream(ctx, headers);
  sendEvent(ctx, 'message_start', messageStart(fakeId('msg_01'), model, inputTokens));
  sendEvent(ctx, 'error', errorBody(type, message, requestId));
  ctx.res.end();
}

function usage(inputTokens: number, outputTokens: number): Record<string, number> {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
  };
}

function messageStart(id: string, model: string, inputTokens: number): unknown {
  return {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage(inputTokens, 1),
    },
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
