import type { Formatted } from './telegram-markdown.js';
import { byteOffset, refuse } from './telegram-markdown.js';
import type { TgEntity } from './telegram-types.js';

/** The tags Telegram's HTML parse mode knows, and the entity each one makes. */
const TAGS: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface OpenTag {
  name: string;
  start: number;
  attrs: Record<string, string>;
  /** Set by a `<code class="language-x">` inside this <pre>. */
  language?: string;
}

/**
 * HTML as Telegram parses it (after tdlib's parse_html): only its tags, every '<' starts one, tags close in
 * order; &lt; &gt; &amp; &quot; and numeric references are decoded, any other '&' is kept.
 */
export function parseHtml(src: string): Formatted {
  let out = '';
  const entities: TgEntity[] = [];
  const stack: OpenTag[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (c === '<' && src[i + 1] === '/') {
      i = endTag(src, i, stack, (tag) => emit(entities, stack, tag, out.length));
    } else if (c === '<') {
      const { tag, next } = startTag(src, i, out.length);
      stack.push(tag);
      i = next;
    } else if (c === '&') {
      const { text, next } = reference(src, i);
      out += text;
      i = next;
    } else {
      out += c;
      i++;
    }
  }
  const open = stack.at(-1);
  if (open) throw refuse(`Can't find end tag corresponding to start tag "${open.name}"`);
  return { text: out, entities: entities.sort((a, b) => a.offset - b.offset || b.length - a.length) };
}

function startTag(src: string, i: number, start: number): { tag: OpenTag; next: number } {
  const name = (/^[^\s>/]*/.exec(src.slice(i + 1))?.[0] ?? '').toLowerCase();
  let j = i + 1 + name.length;
  if (j >= src.length) throw refuse(`Unclosed start tag at byte offset ${byteOffset(src, i)}`);
  if (!(name in TAGS)) throw refuse(`Unsupported start tag "${name}" at byte offset ${byteOffset(src, i)}`);
  const attrs: Record<string, string> = {};
  const attr = /\s*([^\s=>/"']+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/y;
  while (j < src.length && src[j] !== '>') {
    attr.lastIndex = j;
    const m = attr.exec(src);
    if (m === null) {
      j++;
      continue;
    }
    attrs[(m[1] ?? '').toLowerCase()] = m[2] ?? m[3] ?? m[4] ?? '';
    j = attr.lastIndex;
  }
  if (j >= src.length) throw refuse(`Unclosed start tag at byte offset ${byteOffset(src, i)}`);
  if (name === 'span' && attrs['class'] !== 'tg-spoiler') throw refuse('Tag "span" must have class "tg-spoiler"');
  return { tag: { name, start, attrs }, next: j + 1 };
}

function endTag(src: string, i: number, stack: OpenTag[], close: (tag: OpenTag) => void): number {
  const gt = src.indexOf('>', i);
  if (gt < 0) throw refuse(`Unclosed end tag at byte offset ${byteOffset(src, i)}`);
  const name = src
    .slice(i + 2, gt)
    .trim()
    .toLowerCase();
  const top = stack.pop();
  if (!top) throw refuse(`Unexpected end tag at byte offset ${byteOffset(src, i)}`);
  if (name !== top.name) {
    throw refuse(
      `Unmatched end tag at byte offset ${byteOffset(src, i)}, expected "</${top.name}>", found "</${name}>"`,
    );
  }
  close(top);
  return gt + 1;
}

function emit(entities: TgEntity[], stack: OpenTag[], tag: OpenTag, end: number): void {
  const type = TAGS[tag.name] ?? 'bold';
  const parent = stack.at(-1);
  const language = /^language-(.+)$/.exec(tag.attrs['class'] ?? '')?.[1];
  // <pre><code class="language-x"> is one pre entity with a language, not a code inside a pre.
  if (tag.name === 'code' && parent?.name === 'pre' && language) {
    parent.language = language;
    return;
  }
  const length = end - tag.start;
  if (length <= 0) return;
  const entity: TgEntity = { type, offset: tag.start, length };
  if (type === 'text_link') {
    const href = tag.attrs['href'];
    if (!href) return;
    entity.url = href;
  }
  if (type === 'pre' && tag.language) entity.language = tag.language;
  if (type === 'blockquote' && 'expandable' in tag.attrs) entity.type = 'expandable_blockquote';
  entities.push(entity);
}

function reference(src: string, i: number): { text: string; next: number } {
  const m = /^&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/i.exec(src.slice(i, i + 12));
  const ref = m?.[1];
  if (!m || ref === undefined) return { text: '&', next: i + 1 };
  const lower = ref.toLowerCase();
  const code = lower.startsWith('#x')
    ? parseInt(lower.slice(2), 16)
    : lower.startsWith('#')
      ? Number(lower.slice(1))
      : NaN;
  if (!Number.isNaN(code) && code > 0 && code <= 0x10ffff)
    return { text: String.fromCodePoint(code), next: i + m[0].length };
  const named = NAMED[lower];
  return named === undefined ? { text: '&', next: i + 1 } : { text: named, next: i + m[0].length };
}
