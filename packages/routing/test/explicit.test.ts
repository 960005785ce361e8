import { describe, expect, it } from 'vitest';
import { newId } from '@alter0/core';
import { findExplicitTaskRef, findExplicitTaskRefs } from '../src/explicit.js';

const A = 't_01j9zq3k8m4n5p6r7s8t9v0w1x';
const B = 't_01j9zq3k8m4n5p6r7s8t9v0w2y';

describe('findExplicitTaskRef', () => {
  it.each([
    [`#${A} please also add tests`, A],
    [`re #${A}: done?`, A],
    [`(see #${A})`, A],
    [`continue on #${A.toUpperCase().replace('T_', 't_')}`, A],
    [`first #${A} then #${B}`, A],
    [`#${newId('t')}`, null],
  ])('%s', (text, want) => {
    const got = findExplicitTaskRef(text);
    if (want === null) expect(got).toMatch(/^t_[0-9a-hjkmnp-tv-z]{26}$/);
    else expect(got).toBe(want);
  });

  it.each([
    ['no reference', 'fix the login bug'],
    ['without the hash', `task ${A} again`],
    ['a message id', '#m_01j9zq3k8m4n5p6r7s8t9v0w1x'],
    ['too short', '#t_01j9zq3k8m4n5p6r7s8t9v0w1'],
    ['too long', `#${A}z`],
    ['letters outside Crockford base32', '#t_01j9zq3k8m4n5p6r7s8t9v0wlu'],
    ['glued to a word', `issue#${A}`],
  ])('null for %s', (_, text) => {
    expect(findExplicitTaskRef(text)).toBeNull();
  });

  it('lists distinct references in order', () => {
    expect(findExplicitTaskRefs(`#${B} and #${A} and #${B} again`)).toEqual([B, A]);
  });
});
