import { badRequest } from './telegram-errors.js';
import type { TgEntity } from './telegram-types.js';

/** A text as Telegram stores it after parse_mode: markup removed, formatting as entities (UTF-16 offsets). */
export interface Formatted {
  text: string;
  entities: TgEntity[];
}

const RESERVED = '_*[]()~`>#+-=|{}.!';

/** Entity kinds in the Bot API, and the names Telegram's errors give them. */
const KINDS = {
  italic: 'Italic',
  underline: 'Underline',
  bold: 'Bold',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  text_link: 'TextUrl',
  code: 'Code',
  pre: 'Pre',
} as const;
type Kind = keyof typeof KINDS;

interface Open {
  kind: Kind;
  /** Where the entity starts in the output (UTF-16). */
  start: number;
  /** Where its opening marker is in the input, in UTF-8 bytes (as Telegram's errors count). */
  byteOffset: number;
  language?: string;
}

export function refuse(detail: string): Error {
  return badRequest(`can't parse entities: ${detail}`);
}

export function byteOffset(src: string, i: number): number {
  return Buffer.byteLength(src.slice(0, i));
}

/**
 * MarkdownV2 as Telegram parses it (after tdlib's parse_markdown_v2, without custom emoji and expandable quotes):
 * a reserved character outside markup must be escaped, and every entity must end.
 */
export function parseMarkdownV2(src: string): Formatted {
  return new MarkdownV2(src).parse();
}

class MarkdownV2 {
  private out = '';
  private readonly entities: TgEntity[] = [];
  private readonly stack: Open[] = [];
  private quoteStart: number | null = null;
  private i = 0;

  constructor(private readonly src: string) {}

  parse(): Formatted {
    const { src } = this;
    while (this.i < src.length) {
      const top = this.stack.at(-1);
      const verbatim = top?.kind === 'code' || top?.kind === 'pre';
      if (!verbatim && this.atLineStart()) this.lineStart();
      if (this.i >= src.length) break;
      const c = src.charAt(this.i);
      const next = src.charAt(this.i + 1);
      if (c === '\\' && next !== '' && next.charCodeAt(0) <= 126) {
        this.out += next;
        this.i += 2;
      } else if (verbatim) {
        this.verbatimChar(top);
      } else if (top && this.endsHere(top.kind)) {
        this.close(top);
      } else if (!this.opens(c, next)) {
        if (RESERVED.includes(c))
          throw refuse(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
        this.out += c;
        this.i++;
      }
    }
    const open = this.stack.at(-1);
    if (open) {
      const name = open.kind === 'pre' && open.language ? 'PreCode' : KINDS[open.kind];
      throw refuse(`Can't find end of ${name} entity at byte offset ${open.byteOffset}`);
    }
    this.closeQuote();
    const entities = this.entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
    return { text: this.out, entities };
  }

  private atLineStart(): boolean {
    return this.i === 0 || this.src[this.i - 1] === '\n' || this.src[this.i - 1] === '\r';
  }

  /** A line starting with '>' is (part of) a blockquote; the first line without it ends the quote. */
  private lineStart(): void {
    if (this.src[this.i] === '>') {
      this.quoteStart ??= this.out.length;
      this.i++;
    } else {
      this.closeQuote();
    }
  }

  private closeQuote(): void {
    if (this.quoteStart !== null && this.out.length > this.quoteStart) {
      this.entities.push({ type: 'blockquote', offset: this.quoteStart, length: this.out.length - this.quoteStart });
    }
    this.quoteStart = null;
  }

  /** Inside code and pre only the closing backticks (and escapes) mean anything. */
  private verbatimChar(top: Open): void {
    const marker = top.kind === 'pre' ? '```' : '`';
    if (this.src.startsWith(marker, this.i)) {
      this.i += marker.length;
      this.push(top);
      this.stack.pop();
      return;
    }
    this.out += this.src[this.i];
    this.i++;
  }

  private endsHere(kind: Kind): boolean {
    const { src, i } = this;
    switch (kind) {
      case 'italic':
        return src[i] === '_' && src[i + 1] !== '_';
      case 'underline':
        return src.startsWith('__', i);
      case 'bold':
        return src[i] === '*';
      case 'strikethrough':
        return src[i] === '~';
      case 'spoiler':
        return src.startsWith('||', i);
      case 'text_link':
        return src[i] === ']';
      default:
        return false;
    }
  }

  private close(top: Open): void {
    this.stack.pop();
    const width = top.kind === 'underline' || top.kind === 'spoiler' ? 2 : 1;
    this.i += width;
    if (top.kind !== 'text_link') {
      this.push(top);
      return;
    }
    const text = this.out.slice(top.start);
    const url = this.src[this.i] === '(' ? this.linkUrl() : text;
    if (url.length > 0 && text.length > 0) {
      this.entities.push({ type: 'text_link', offset: top.start, length: text.length, url });
    }
  }

  /** The `(url)` after a link's text: ')' and '\' escaped inside. */
  private linkUrl(): string {
    const { src } = this;
    const begin = this.i;
    let url = '';
    for (let j = begin + 1; j < src.length; j++) {
      const c = src.charAt(j);
      if (c === '\\' && j + 1 < src.length) {
        url += src.charAt(++j);
      } else if (c === ')') {
        this.i = j + 1;
        return url;
      } else {
        url += c;
      }
    }
    throw refuse(`Can't find end of a URL at byte offset ${byteOffset(src, begin + 1)}`);
  }

  /** Opens an entity when a begin marker is here; false when `c` is not one. */
  private opens(c: string, next: string): boolean {
    const at = { start: this.out.length, byteOffset: byteOffset(this.src, this.i) };
    if (c === '_' && next === '_') return this.open({ kind: 'underline', ...at }, 2);
    if (c === '_') return this.open({ kind: 'italic', ...at }, 1);
    if (c === '*') return this.open({ kind: 'bold', ...at }, 1);
    if (c === '~') return this.open({ kind: 'strikethrough', ...at }, 1);
    if (c === '|' && next === '|') return this.open({ kind: 'spoiler', ...at }, 2);
    if (c === '[') return this.open({ kind: 'text_link', ...at }, 1);
    if (c === '`' && this.src.startsWith('```', this.i)) return this.openPre(at);
    if (c === '`') return this.open({ kind: 'code', ...at }, 1);
    return false;
  }

  private open(entity: Open, width: number): true {
    this.stack.push(entity);
    this.i += width;
    return true;
  }

  /** ```lang\n…``` : the word right after the backticks is the language; the newline after it is dropped. */
  private openPre(at: { start: number; byteOffset: number }): true {
    this.i += 3;
    const lang = /^[^\s`]+/.exec(this.src.slice(this.i))?.[0] ?? '';
    const rest = this.src.slice(this.i + lang.length);
    const newline = /^(\r\n|\n\r|\n|\r)/.exec(rest)?.[0];
    const language = lang && (newline !== undefined || rest.startsWith(' ')) ? lang : undefined;
    if (language) this.i += lang.length + (newline?.length ?? 0);
    this.stack.push({ kind: 'pre', ...at, ...(language ? { language } : {}) });
    return true;
  }

  private push(e: Open): void {
    const length = this.out.length - e.start;
    if (length <= 0) return;
    this.entities.push({ type: e.kind, offset: e.start, length, ...(e.language ? { language: e.language } : {}) });
  }
}
