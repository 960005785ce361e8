import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@alter0/core';

export interface PromptTemplateInfo {
  id: string;
  version: string;
  /** sha256 of the file content, hex, first 16 chars: decision records name the exact prompt. */
  hash: string;
}

export interface PromptTemplate extends PromptTemplateInfo {
  text: string;
}

/** A template filled for one call. */
export interface RenderedPrompt {
  text: string;
  /** Length in characters (UTF-16 code units, as stored), reported with each decision. */
  chars: number;
}

export interface TemplateStore {
  loadTemplate(id: string, version: string): PromptTemplate;
  listTemplates(): PromptTemplateInfo[];
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

export function templateHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}

/** `{{name}}` placeholders a template uses. */
export function placeholdersOf(text: string): Set<string> {
  return new Set([...text.matchAll(/\{\{([a-z_]+)\}\}/g)].map((m) => m[1] ?? ''));
}

/**
 * Fills `{{name}}` placeholders in one pass, so text substituted in (a user's message that
 * happens to contain `{{candidates}}`) is never expanded again.
 */
export function fillTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{([a-z_]+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}

/**
 * Templates live as `<dir>/<id>/<version>.md`, shipped in the package next to `dist/`.
 * `required` names, per template id, the placeholders a template must contain to be usable.
 */
export function createTemplateStore(dir: URL, required: Readonly<Record<string, readonly string[]>>): TemplateStore {
  const root = fileURLToPath(dir);

  function loadTemplate(id: string, version: string): PromptTemplate {
    if (!NAME_RE.test(id) || !NAME_RE.test(version)) {
      throw new ConfigError(
        `prompt template "${id}/${version}" is not a valid name; use lowercase letters, digits, - and _`,
      );
    }
    const needs = required[id];
    if (needs === undefined) {
      throw new ConfigError(`unknown prompt template id "${id}"; known ids: ${Object.keys(required).join(', ')}`);
    }
    let text: string;
    try {
      text = readFileSync(new URL(`${id}/${version}.md`, dir), 'utf8');
    } catch (err) {
      const have = listTemplates()
        .filter((t) => t.id === id)
        .map((t) => t.version);
      throw new ConfigError(
        `prompt template ${id}/${version} not found under ${root}; available versions: ${have.join(', ') || 'none'}`,
        { cause: err },
      );
    }
    const present = placeholdersOf(text);
    const missing = needs.filter((p) => !present.has(p));
    if (missing.length > 0) {
      throw new ConfigError(
        `prompt template ${id}/${version} lacks placeholder(s) ${missing.map((m) => `{{${m}}}`).join(', ')}; add them to ${root}${id}/${version}.md`,
      );
    }
    return { id, version, hash: templateHash(text), text };
  }

  function listTemplates(): PromptTemplateInfo[] {
    const out: PromptTemplateInfo[] = [];
    for (const id of Object.keys(required).sort()) {
      let files: string[];
      try {
        files = readdirSync(new URL(`${id}/`, dir));
      } catch {
        continue;
      }
      for (const f of files.sort()) {
        const version = f.endsWith('.md') ? f.slice(0, -3) : null;
        if (version === null || !NAME_RE.test(version)) continue;
        const text = readFileSync(new URL(`${id}/${f}`, dir), 'utf8');
        out.push({ id, version, hash: templateHash(text) });
      }
    }
    return out;
  }

  return { loadTemplate, listTemplates };
}
