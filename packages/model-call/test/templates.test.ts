import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@alter0/core';
import { createTemplateStore, fillTemplate } from '../src/templates.js';

describe('createTemplateStore', () => {
  let dir = '';
  afterEach(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a template missing a required placeholder, naming it', () => {
    dir = mkdtempSync(join(tmpdir(), 'alter0-tpl-'));
    mkdirSync(join(dir, 'router'));
    writeFileSync(join(dir, 'router', 'v2.md'), 'only {{message}} here');
    writeFileSync(join(dir, 'router', 'notes.txt'), 'ignored');
    const store = createTemplateStore(pathToFileURL(`${dir}/`), { router: ['message', 'candidates'] });
    expect(() => store.loadTemplate('router', 'v2')).toThrow(/\{\{candidates\}\}/);
    expect(store.listTemplates().map((t) => t.version)).toEqual(['v2']);
  });

  it('refuses an unknown id, a bad name and a missing version with a ConfigError', () => {
    dir = mkdtempSync(join(tmpdir(), 'alter0-tpl-'));
    mkdirSync(join(dir, 'router'));
    writeFileSync(join(dir, 'router', 'v1.md'), '{{message}} {{candidates}}');
    const store = createTemplateStore(pathToFileURL(`${dir}/`), { router: ['message', 'candidates'] });
    expect(store.loadTemplate('router', 'v1').text).toBe('{{message}} {{candidates}}');
    expect(() => store.loadTemplate('closer', 'v1')).toThrow(ConfigError);
    expect(() => store.loadTemplate('router', '../../etc/passwd')).toThrow(ConfigError);
    expect(() => store.loadTemplate('router', 'v9')).toThrow(/available versions: v1/);
  });
});

describe('fillTemplate', () => {
  it('fills placeholders once and never expands text that was substituted in', () => {
    expect(fillTemplate('[{{a}}] [{{b}}] {{c}}', { a: '{{b}}', b: 'B' })).toBe('[{{b}}] [B] {{c}}');
  });
});
