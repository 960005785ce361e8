import { badRequest } from './telegram-errors.js';

export type Params = Record<string, unknown>;

/**
 * Query-string and body parameters merged (body wins), as the Bot API reads them. Form and query values are
 * strings; those that look like JSON objects or arrays (reply_markup, commands…) are parsed, as Telegram does.
 */
export function parseParams(query: URLSearchParams, contentType: string, raw: string): Params {
  const params: Params = {};
  for (const [k, v] of query) params[k] = fromFormValue(v);
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (raw.length === 0) return params;
  if (type === 'application/json') {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw badRequest("can't parse JSON encoded request parameters");
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badRequest('request parameters must be a JSON object');
    }
    return { ...params, ...(body as Params) };
  }
  if (type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(raw)) params[k] = fromFormValue(v);
    return params;
  }
  if (type === 'multipart/form-data') throw badRequest('multipart/form-data is not supported by the alter0 fake');
  return params;
}

function fromFormValue(v: string): unknown {
  const t = v.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return v;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return v;
  }
}

/** An integer parameter given as a number or a numeric string; undefined when absent. */
export function intParam(p: Params, name: string): number | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw badRequest(`invalid ${name} specified`);
  return n;
}

export function stringParam(p: Params, name: string): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export function boolParam(p: Params, name: string): boolean {
  const v = p[name];
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** chat_id as a number: '@username' chats are not known to the fake. */
export function chatIdParam(p: Params): number {
  const v = p['chat_id'];
  if (v === undefined || v === null || v === '') throw badRequest('chat_id is empty');
  if (typeof v === 'string' && !/^-?\d+$/.test(v.trim())) throw badRequest('chat not found');
  const id = intParam(p, 'chat_id');
  if (id === undefined) throw badRequest('chat_id is empty');
  return id;
}

export function objectParam(p: Params, name: string): Record<string, unknown> | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`can't parse ${name} JSON object`);
  return v as Record<string, unknown>;
}
