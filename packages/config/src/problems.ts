import { ConfigError } from '@alter0/core';

export type SourceKind = 'default' | 'file' | 'env' | 'flag';

/** Where one setting came from; `detail` is the file path, variable name, flag or how a default was derived. */
export interface SourceInfo {
  source: SourceKind;
  detail?: string;
}

export interface Origin extends SourceInfo {
  /** What error messages name: the file path, the variable, the flag, or "default". */
  label: string;
  /** Relative paths given by this source resolve against this folder. */
  baseDir: string;
}

/** Collects every problem so one ConfigError can list them all instead of stopping at the first. */
export class Problems {
  private readonly lines: string[] = [];

  add(label: string, key: string, message: string): void {
    const line = key === '' ? `${label}: ${message}` : `${label}: ${key}: ${message}`;
    if (!this.lines.includes(line)) this.lines.push(line);
  }

  /** Appends another collection's problems after this one's. */
  absorb(other: Problems): void {
    for (const l of other.lines) if (!this.lines.includes(l)) this.lines.push(l);
  }

  get count(): number {
    return this.lines.length;
  }

  throwIfAny(): void {
    if (this.lines.length === 0) return;
    const n = this.lines.length;
    throw new ConfigError(
      `invalid configuration (${n} problem${n === 1 ? '' : 's'}); fix ${n === 1 ? 'it' : 'them'} and start again:\n` +
        this.lines.map((l) => `  ${l}`).join('\n'),
    );
  }
}
