import type { Behaviour, StreamErrorType } from './behaviour.js';
import { httpError, splitText } from './behaviour.js';
import type { Dialect, ExchangeContext, ModelFake } from './server.js';
import { fakeId, holdOpen, pause, sendEvent, sendJson, startEventStream, startFake } from './server.js';

/**
 * A fake OpenAI Responses API (`POST /v1/responses`, streaming SSE and not) on 127.0.0.1, answering
 * the way api.openai.com does: same event sequence, same error bodies and statuses.
 * Point the real `codex` CLI at it through a model provider in CODEX_HOME/config.toml (see writeCodexConfig).
 */
export function startOpenAIFake(opts: { signal?: AbortSignal } = {}): Promise<ModelFake> {
  return startFake(openaiDialect, opts);
}

interface ApiError {
  message: string;
  type: string;
  code: string | null;
}

const HTTP_ERRORS: Record<number, ApiError> = {
  400: { message: 'Invalid request', type: 'invalid_request_error', code: null },
  401: {
    message: 'Incorrect API key provided. You can find your API key in your account settings.',
    type: 'invalid_request_error',
    code: 'invalid_api_key',
  },
  403: { message: 'You are not allowed to access this resource.', type: 'invalid_request_error', code: null },
  404: {
    message: 'The model does not exist or you do not have access to it.',
    type: 'invalid_request_error',
    code: 'model_not_found',
  },
  429: {
    message: 'Rate limit reached for requests. Please try again in 1s.',
    type: 'requests',
    code: 'rate_limit_exceeded',
  },
  500: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    code: null,
  },
  503: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', code: null },
};

const STREAM_ERRORS: Record<StreamErrorType, { code: string; message: string }> = {
  overloaded: { code: 'server_is_overloaded', message: 'The server is overloaded. Please try again later.' },
  rate_limited: { code: 'rate_limit_exceeded', message: 'Rate limit reached for requests. Please try again in 1s.' },
  server_error: { code: 'server_error', message: 'The server had an error while processing your request.' },
};

const openaiDialect: Dialect = {
  isModelCall: (method, path) => method === 'POST' && path === '/v1/responses',

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
    sendJson(ctx, 404, {
      error: {
        message: `${method} ${path} is not served by the alter0 fake`,
        type: 'invalid_request_error',
        param: null,
        code: 'unknown_url',
      },
    });
  },

  whenExhausted: (seq) =>
    httpError(400, {
      message: `alter0 fake: no scripted behaviour left for request #${seq}; add one with fake.script([...])`,
    }),
};

type BehaviourOf<K extends Behaviour['kind']> = Extract<Behaviour, { kind: K }>;

/** One model call being answered: what every answer needs of the request, and its numbered SSE events. */
interface Call {
  ctx: ExchangeContext;
  headers: Record<string, string>;
  model: string;
  stream: boolean;
  responseId: string;
  inputTokens: number;
  /** Sends one SSE event with the next sequence_number; false when the client is gone. */
  emit(data: Record<string, unknown>): boolean;
}

function openCall(ctx: ExchangeContext): Call {
  const requestId = fakeId('req_');
  const body = asRecord(ctx.record.body);
  let seq = 0;
  return {
    ctx,
    headers: { 'x-request-id': requestId },
    model: typeof body['model'] === 'string' ? body['model'] : 'gpt-fake',
    stream: body['stream'] === true,
    responseId: fakeId('resp_'),
    inputTokens: Math.ceil(ctx.record.rawBody.length / 4),
    emit: (data) => sendEvent(ctx, String(data['type']), { ...data, sequence_number: seq++ }),
  };
}

async function answerHttpError({ ctx, headers }: Call, behaviour: BehaviourOf<'http_error'>): Promise<void> {
  if (!(await pause(behaviour.delayMs, ctx.signal))) return;
  // OpenAI has no 529: overload is a 503 there.
  const status = behaviour.status === 529 ? 503 : behaviour.status;
  const err = HTTP_ERRORS[status] ?? { message: `HTTP ${status}`, type: 'server_error', code: null };
  const extra: Record<string, string> = { ...headers };
  if (behaviour.retryAfterS !== null) extra['retry-after'] = String(behaviour.retryAfterS);
  sendJson(ctx, status, { error: { ...err, message: behaviour.message ?? err.message, param: null } }, extra);
}

async function answerReply(call: Call, behaviour: BehaviourOf<'reply'>): Promise<void> {
  const { ctx, headers, model, responseId } = call;
  if (!(await pause(behaviour.delayMs, ctx.signal))) return;
  const itemId = fakeId('msg_');
  const outputTokens = Math.max(1, Math.ceil(behaviour.text.length / 4));
  const doneItem = messageItem(itemId, 'completed', behaviour.text);
  const completed = response(responseId, model, 'completed', [doneItem], usage(call.inputTokens, outputTokens));
  if (!call.stream) {
    sendJson(ctx, 200, completed, headers);
    return;
  }
  startEventStream(ctx, headers);
  for (const data of replyEvents(call, behaviour, itemId, doneItem, completed)) {
    if (!call.emit(data)) return;
    if (!(await pause(behaviour.chunkDelayMs, ctx.signal))) return;
  }
  ctx.res.end();
}

/** The events api.openai.com streams for a text reply, in its order. */
function replyEvents(
  { model, responseId }: Call,
  behaviour: BehaviourOf<'reply'>,
  itemId: string,
  doneItem: Record<string, unknown>,
  completed: Record<string, unknown>,
): Record<string, unknown>[] {
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  return [
    { type: 'response.created', response: response(responseId, model, 'in_progress', [], null) },
    { type: 'response.in_progress', response: response(responseId, model, 'in_progress', [], null) },
    { type: 'response.output_item.added', output_index: 0, item: messageItem(itemId, 'in_progress', null) },
    { type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '', annotations: [] } },
    ...splitText(behaviour.text, behaviour.chunks).map((delta) => ({
      type: 'response.output_text.delta',
      ...at,
      delta,
      logprobs: [],
    })),
    { type: 'response.output_text.done', ...at, text: behaviour.text, logprobs: [] },
    { type: 'response.content_part.done', ...at, part: { type: 'output_text', text: behaviour.text, annotations: [] } },
    { type: 'response.output_item.done', output_index: 0, item: doneItem },
    { type: 'response.completed', response: completed },
  ];
}

function answerToolCall(call: Call, behaviour: BehaviourOf<'tool_call'>): void {
  const { ctx, headers, model, responseId } = call;
  const item = {
    id: fakeId('fc_'),
    type: 'function_call',
    status: 'completed',
    name: behaviour.name,
    arguments: JSON.stringify(behaviour.input),
    call_id: fakeId('call_'),
  };
  const completed = response(responseId, model, 'completed', [item], usage(call.inputTokens, 20));
  if (!call.stream) {
    sendJson(ctx, 200, completed, headers);
    return;
  }
  startEventStream(ctx, headers);
  const events: Record<string, unknown>[] = [
    { type: 'response.created', response: response(responseId, model, 'in_progress', [], null) },
    { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } },
    { type: 'response.function_call_arguments.delta', item_id: item.id, output_index: 0, delta: item.arguments },
    { type: 'response.function_call_arguments.done', item_id: item.id, output_index: 0, arguments: item.arguments },
    { type: 'response.output_item.done', output_index: 0, item },
    { type: 'response.completed', response: completed },
  ];
  for (const data of events) if (!call.emit(data)) return;
  ctx.res.end();
}

function answerMalformed(call: Call): void {
  const { ctx, headers } = call;
  if (!call.stream) {
    ctx.res.writeHead(200, { 'content-type': 'application/json', ...headers });
    ctx.res.end('{"id":"resp_broken","object":"response","output":[{"type":"mess');
    return;
  }
  startEventStream(ctx, headers);
  call.emit({ type: 'response.created', response: response(call.responseId, call.model, 'in_progress', [], null) });
  sendEvent(ctx, 'response.output_text.delta', '{"type":"response.output_text.delta","delta":{not json');
  ctx.res.end();
}

async function answerTruncated(call: Call): Promise<void> {
  const { ctx, headers } = call;
  if (!call.stream) {
    ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096', ...headers });
    ctx.res.write(
      '{"id":"resp_cut","object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"par',
    );
    ctx.res.destroy();
    return;
  }
  startEventStream(ctx, headers);
  const itemId = fakeId('msg_');
  call.emit({ type: 'response.created', response: response(call.responseId, call.model, 'in_progress', [], null) });
  call.emit({ type: 'response.output_item.added', output_index: 0, item: messageItem(itemId, 'in_progress', null) });
  call.emit({
    type: 'response.output_text.delta',
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    delta: 'partial ',
  });
  // Let the bytes leave before the socket is cut, as when a proxy drops the connection.
  await pause(20, ctx.signal);
  ctx.res.destroy();
}

function answerStreamError(call: Call, behaviour: BehaviourOf<'stream_error'>): void {
  const { ctx, headers } = call;
  const err = STREAM_ERRORS[behaviour.errorType];
  if (!call.stream) {
    const status = behaviour.errorType === 'rate_limited' ? 429 : behaviour.errorType === 'overloaded' ? 503 : 500;
    sendJson(
      ctx,
      status,
      { error: { message: err.message, type: 'server_error', code: err.code, param: null } },
      headers,
    );
    return;
  }
  startEventStream(ctx, headers);
  call.emit({ type: 'response.created', response: response(call.responseId, call.model, 'in_progress', [], null) });
  call.emit({
    type: 'response.failed',
    response: { ...response(call.responseId, call.model, 'failed', [], null), error: err },
  });
  ctx.res.end();
}

function messageItem(id: string, status: 'in_progress' | 'completed', text: string | null): Record<string, unknown> {
  return {
    id,
    type: 'message',
    status,
    role: 'assistant',
    content: text === null ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

function usage(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

function response(
  id: string,
  model: string,
  status: 'in_progress' | 'completed' | 'failed',
  output: unknown[],
  usageValue: unknown,
): Record<string, unknown> {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    model,
    output,
    parallel_tool_calls: true,
    store: false,
    usage: usageValue,
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
