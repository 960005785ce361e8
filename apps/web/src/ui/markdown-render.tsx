import { memo, useEffect, useRef, useState, type ComponentProps, type RefObject } from 'react';
import ReactMarkdown, { type Components, type ExtraProps } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { codeLanguage, rehypeHighlightCode, rehypeImagesAsLinks } from './markdown-plugins.js';
import { safeHref } from './markdown-policy.js';

/*
 * A model's reply as Markdown with GitHub's extensions, safely: raw HTML in it is shown as text (react-markdown
 * without rehype-raw never makes elements of it), links keep only http(s) and mailto URLs and open in a new tab
 * without an opener or referrer, images become links (nothing is fetched), and only the elements below are made.
 */

const ALLOWED_ELEMENTS = [
  'a',
  'blockquote',
  'br',
  'code',
  'del',
  'em',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'input',
  'li',
  'ol',
  'p',
  'pre',
  'section',
  'span',
  'strong',
  'sup',
  'table',
  'tbody',
  'td',
  'th',
  'thead',
  'tr',
  'ul',
];
const REMARK_PLUGINS = [remarkGfm];
const REHYPE_PLUGINS = [rehypeImagesAsLinks, rehypeHighlightCode];

function urlTransform(url: string): string | undefined {
  return safeHref(url) ?? undefined;
}

function SafeLink({ node: _node, href, children, className }: ComponentProps<'a'> & ExtraProps) {
  const safe = safeHref(href);
  if (safe === null) return <span className="md-link-off">{children}</span>;
  return (
    <a href={safe} className={className} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

/** A table scrolls sideways inside its own box on a narrow screen, never the page. */
function ScrollTable({ node: _node, ...props }: ComponentProps<'table'> & ExtraProps) {
  return (
    <div className="md-table-wrap">
      <table {...props} />
    </div>
  );
}

/** Headings of a reply sit below the page's own (h1 app, h2 panel, h3 section): # becomes h4, ## h5, the rest h6. */
function heading(level: 1 | 2 | 3 | 4 | 5 | 6) {
  const Tag = level === 1 ? 'h4' : level === 2 ? 'h5' : 'h6';
  return function MarkdownHeading({ node: _node, children, id }: ComponentProps<'h1'> & ExtraProps) {
    return (
      <Tag className={`md-h md-h${level}`} id={id}>
        {children}
      </Tag>
    );
  };
}

type CopyState = 'idle' | 'copied' | 'selected';

const COPY_TEXT: Record<CopyState, { label: string; aria: string }> = {
  idle: { label: 'Copy', aria: 'Copy code' },
  copied: { label: 'Copied', aria: 'Code copied' },
  // No clipboard (a plain-HTTP page that is not localhost) or it refused: the code is selected for Ctrl+C.
  selected: { label: 'Selected', aria: 'Could not copy; the code is selected, copy it with the keyboard' },
};

function CopyButton({ target }: { target: RefObject<HTMLPreElement | null> }) {
  const [state, setState] = useState<CopyState>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2_000);
    return () => clearTimeout(timer);
  }, [state]);

  const copy = async (): Promise<void> => {
    const pre = target.current;
    if (!pre) return;
    try {
      // navigator.clipboard is missing outside secure contexts: the TypeError goes to the fallback.
      await navigator.clipboard.writeText(pre.textContent ?? '');
      setState('copied');
    } catch {
      window.getSelection()?.selectAllChildren(pre);
      setState('selected');
    }
  };
  const text = COPY_TEXT[state];
  return (
    <>
      <button
        type="button"
        className="btn small md-copy"
        aria-label={text.aria}
        data-state={state}
        onClick={() => void copy()}
      >
        {text.label}
      </button>
      <span className="visually-hidden" role="status">
        {state === 'copied' ? 'Copied to the clipboard' : ''}
      </span>
    </>
  );
}

/** A fenced block: its language, a copy button, and the (highlighted) code scrolling sideways inside the block. */
function CodeBlock({ node, children, className }: ComponentProps<'pre'> & ExtraProps) {
  const ref = useRef<HTMLPreElement>(null);
  const first = node?.children[0];
  const language = first?.type === 'element' && first.tagName === 'code' ? codeLanguage(first) : null;
  return (
    <div className="md-code">
      <div className="md-code-bar">
        <span className="md-code-lang">{language ?? 'text'}</span>
        <CopyButton target={ref} />
      </div>
      <pre ref={ref} className={className}>
        {children}
      </pre>
    </div>
  );
}

const COMPONENTS: Components = {
  a: SafeLink,
  table: ScrollTable,
  pre: CodeBlock,
  h1: heading(1),
  h2: heading(2),
  h3: heading(3),
  h4: heading(4),
  h5: heading(5),
  h6: heading(6),
};

/**
 * The rendering alone, memoised (a live card re-renders on every event, its reply does not change). Loaded on
 * demand by ./Markdown.tsx: the parser, GFM and the grammars are a chunk of their own.
 */
const MarkdownBody = memo(function MarkdownBody({ text }: { text: string }) {
  return (
    <ReactMarkdown
      remarkPlugins={REMARK_PLUGINS}
      rehypePlugins={REHYPE_PLUGINS}
      allowedElements={ALLOWED_ELEMENTS}
      unwrapDisallowed
      urlTransform={urlTransform}
      components={COMPONENTS}
    >
      {text}
    </ReactMarkdown>
  );
});

export default MarkdownBody;
