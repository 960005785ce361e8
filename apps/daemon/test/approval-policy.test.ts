import { describe, expect, it } from 'vitest';
import { allowingRule, matchesRule, ruleArgument, ruleFor } from '../src/approvals/policy.js';

describe('permission rules (claude syntax)', () => {
  it('a bare tool name allows every use of that tool, and only that tool', () => {
    expect(matchesRule('Read', 'Read', { file_path: '/etc/passwd' })).toBe(true);
    expect(matchesRule('Read', 'ReadAll', {})).toBe(false);
    expect(matchesRule('Bash(*)', 'Bash', { command: 'anything' })).toBe(true);
  });

  it('Tool(arg) allows that exact argument; Tool(prefix:*) a command that starts with those words', () => {
    expect(matchesRule('Bash(npm test)', 'Bash', { command: 'npm test' })).toBe(true);
    expect(matchesRule('Bash(npm test)', 'Bash', { command: 'npm test; rm -rf /' })).toBe(false);
    expect(matchesRule('Bash(git status:*)', 'Bash', { command: 'git status --short' })).toBe(true);
    expect(matchesRule('Bash(git status:*)', 'Bash', { command: 'git status' })).toBe(true);
    expect(matchesRule('Bash(git status:*)', 'Bash', { command: 'git statusx' })).toBe(false);
    expect(matchesRule('Bash(git status:*)', 'Bash', { command: 'git push' })).toBe(false);
    expect(matchesRule('Edit(/src/a.ts)', 'Edit', { file_path: '/src/a.ts' })).toBe(true);
    expect(matchesRule('Bash(ls)', 'Bash', {})).toBe(false);
  });

  it('reads the argument a person judges: the command, else the path, URL or pattern', () => {
    expect(ruleArgument({ command: 'ls', file_path: '/x' })).toBe('ls');
    expect(ruleArgument({ url: 'https://example.net' })).toBe('https://example.net');
    expect(ruleArgument({ other: 1 })).toBeNull();
    expect(allowingRule(['Read', 'Bash(ls)'], 'Bash', { command: 'ls' })).toBe('Bash(ls)');
    expect(allowingRule(['Read'], 'Bash', { command: 'ls' })).toBeNull();
  });

  it('"always" grants this tool with this argument, parentheses and all, never the whole tool', () => {
    expect(ruleFor('Bash', { command: 'echo (hi)' })).toBe('Bash(echo (hi))');
    expect(matchesRule(ruleFor('Bash', { command: 'echo (hi)' }), 'Bash', { command: 'echo (hi)' })).toBe(true);
    expect(matchesRule(ruleFor('Bash', { command: 'echo (hi)' }), 'Bash', { command: 'echo' })).toBe(false);
    expect(ruleFor('TodoWrite', { todos: [] })).toBe('TodoWrite');
  });
});
