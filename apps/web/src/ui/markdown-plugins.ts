// The rehype steps of the console's Markdown: code highlighting (highlight.js grammars through lowlight, which
// yields a syntax tree rather than an HTML string) and images turned into links, so a reply never makes the
// browser fetch anything.
import type { Element, ElementContent, Root } from 'hast';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { createLowlight } from 'lowlight';

// A handful of grammars (and their aliases: sh, js, ts, py, yml, html, toml…), not highlight.js' whole set.
const lowlight = createLowlight({
  bash,
  css,
  diff,
  dockerfile,
  go,
  ini,
  javascript,
  json,
  markdown,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
});

/** Bigger blocks stay plain: highlighting them would stall the page for little gain. */
const HIGHLIGHT_MAX_CHARS = 100_000;

/** The language of a fenced block (```ts gives `language-ts`), or null. */
export function codeLanguage(code: Element | undefined): string | null {
  const classes = code?.properties.className;
  if (!Array.isArray(classes)) return null;
  for (const c of classes) {
    if (typeof c === 'string' && c.startsWith('language-')) return c.slice('language-'.length);
  }
  return null;
}

function textOf(node: ElementContent): string {
  if (node.type === 'text') return node.value;
  if (node.type === 'element') return node.children.map(textOf).join('');
  return '';
}

function highlightCode(code: Element): void {
  const language = codeLanguage(code);
  if (language === null || !lowlight.registered(language)) return;
  const text = code.children.map(textOf).join('');
  if (text.length > HIGHLIGHT_MAX_CHARS) return;
  const tree = lowlight.highlight(language, text);
  code.children = tree.children as ElementContent[];
  const classes = Array.isArray(code.properties.className) ? code.properties.className : [];
  code.properties.className = [...classes, 'hljs'];
}

function visitElements(parent: Root | Element, inLink: boolean, visit: (el: Element, inLink: boolean) => void): void {
  for (const child of parent.children) {
    if (child.type !== 'element') continue;
    visit(child, inLink);
    visitElements(child, inLink || child.tagName === 'a', visit);
  }
}

/** Highlights fenced code blocks whose language is one of the registered grammars. */
export function rehypeHighlightCode() {
  return (tree: Root): void => {
    visitElements(tree, false, (el) => {
      if (el.tagName !== 'pre') return;
      for (const child of el.children) if (child.type === 'element' && child.tagName === 'code') highlightCode(child);
    });
  };
}

/**
 * `![alt](src)` becomes a link to the image (its alt text, marked as an image), never an <img>: a reply must not
 * make the browser fetch anything on its own (a tracking pixel, a request to the daemon's API). Inside a link it
 * becomes plain text, as links do not nest.
 */
export function rehypeImagesAsLinks() {
  return (tree: Root): void => {
    visitElements(tree, false, (el, inLink) => {
      if (el.tagName !== 'img') return;
      const alt = typeof el.properties.alt === 'string' && el.properties.alt.trim() !== '' ? el.properties.alt : '';
      const label: ElementContent = { type: 'text', value: `[image${alt ? `: ${alt}` : ''}]` };
      const src = el.properties.src;
      el.tagName = inLink || typeof src !== 'string' ? 'span' : 'a';
      el.properties = el.tagName === 'a' ? { href: src, className: ['md-image-link'] } : { className: ['md-image'] };
      el.children = [label];
    });
  };
}
