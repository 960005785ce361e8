import { describe, expect, it } from 'vitest';
import { componentAdvice } from '@alter0/api';
import { storageError } from '../src/status.js';

describe('the storage component says why it is not ok', () => {
  it('a full disk: what is refused, and that alter0 recovers by itself once space is freed', () => {
    const msg = storageError(8192, '/var/lib/alter0');
    expect(msg).toBe(
      'the disk holding /var/lib/alter0 is full: 8192 bytes free; new messages are refused (507 storage_full) and job outcomes wait until space is freed, then alter0 takes writes again by itself (no restart needed)',
    );
    const advice = componentAdvice('storage', { state: 'down', last_error: { message: msg } });
    expect(advice.meaning).toMatch(/^The disk is full: new messages are refused \(507 storage_full\)/);
    expect(advice.action).toMatch(/alter0 takes writes again by itself, no restart needed/);
  });

  it('low but not full: the MiB left, and the advice for a disk filling up', () => {
    const msg = storageError(40 * 1024 * 1024, '/d');
    expect(msg).toBe('free disk space is low: 40 MiB left in /d');
    expect(componentAdvice('storage', { state: 'down', last_error: { message: msg } }).meaning).toMatch(/almost full/);
  });
});
