import { badRequest } from './telegram-errors.js';
import { parseHtml } from './telegram-html.js';
import type { Formatted } from './telegram-markdown.js';
import { byteOffset, parseMarkdownV2, refuse } from './telegram-markdown.js';
import type { TgEntity } from './telegram-types.js';

const MAX_TEXT_LENGTH = 4096;

/**
 * A message text checked as Telegram checks it: markup parsed first (its errors win), then the text left
 * must not be blank nor longer than 4096 UTF-16 code units.
 */
export function formatMessageText(
  raw: string | undefined,
  parseMode: string | undefined,
  entities: unknown,
): Formatted {
  if (raw === undefined || raw.length === 0) throw badRequest('message text is empty');
  const formatted = format(raw, parseMode, entities);
  if (formatted.text.trim().length === 0) throw badRequest('message text is empty');
  if (formatted.text.length > MAX_TEXT_LENGTH) throw badRequest('message is too long');
  return formatted;
}

function format(raw: string, parseMode: string | undefined, entities: unknown): Formatted {
  switch (parseMode) {
    case undefined:
    case '':
      return { text: raw, entities: Array.isArray(entities) ? (entities as TgEntity[]) : [] };
    case 'MarkdownV2':
      return parseMarkdownV2(raw);
    case 'HTML':
      return parseHtml(raw);
    case 'Markdown':
      return parseLegacyMarkdown(raw);
    default:
      throw badRequest('unsupported parse_mode');
  }
}

const LEGACY: Record<string, string> = { '*': 'bold', _: 'italic', '`': 'code' };

/** The legacy Markdown mode: *bold*, _italic_, `code`, ```pre```, [text](url); only markers may be escaped. */
function parseLegacyMarkdown(src: string): Formatted {
  let out = '';
  const entities: TgEntity[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (c === '\\' && '_*`['.includes(src.charAt(i + 1))) {
      out += src.charAt(i + 1);
      i += 2;
      continue;
    }
    const marker = src.startsWith('```', i) ? '```' : c in LEGACY || c === '[' ? c : null;
    if (marker === null) {
      out += c;
      i++;
      continue;
    }
    const closer = marker === '[' ? ']' : marker;
    const end = src.indexOf(closer, i + marker.length);
    if (end < 0) throw refuse(`Can't find end of the entity starting at byte offset ${byteOffset(src, i)}`);
    const inner = src.slice(i + marker.length, end);
    const entity: TgEntity = {
      type: marker === '```' ? 'pre' : (LEGACY[marker] ?? 'text_link'),
      offset: out.length,
      length: inner.length,
    };
    i = end + closer.length;
    if (marker === '[') {
      const url = /^\(([^)]*)\)/.exec(src.slice(i));
      if (url) {
        entity.url = url[1] ?? '';
        i += url[0].length;
      }
    }
    out += inner;
    if (inner.length > 0 && (marker !== '[' || entity.url)) entities.push(entity);
  }
  return { text: out, entities };
}
