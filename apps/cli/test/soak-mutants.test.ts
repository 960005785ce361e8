/**
 * Mutation testing of the soak (issue 18, tooling/soak/src/mutants.ts): every mutant's patch still finds the code it
 * breaks — exactly once — in the daemon's bundle as built now (a refactor that moves the code fails here, naming the
 * mutant), and one cheap mutant, run for real, is caught by the check it targets. The full list takes ~5 min per
 * mutant: `node tooling/soak/dist/mutants-main.js` (docs/soak.md, "Mutation testing").
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HIT, MUTANTS, applyMutant, prepareMutant, readMarks, runSoakProcess } from '@alter0/soak';
import { tempDir } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUNDLE = path.join(ROOT, 'apps/cli/dist/serve.bundle.mjs');

describe('soak mutants', () => {
  it('each mutant finds the code it breaks exactly once in the built bundle', () => {
    expect(fs.existsSync(BUNDLE), `${BUNDLE} is missing: run \`pnpm build\``).toBe(true);
    const bundle = fs.readFileSync(BUNDLE, 'utf8');
    const names = new Set<string>();
    for (const m of MUTANTS) {
      expect(names.has(m.name), `two mutants named ${m.name}`).toBe(false);
      names.add(m.name);
      // Throws, naming the mutant, when the find text matches 0 or 2+ times.
      const patched = applyMutant(bundle, m, '__hit()');
      expect(patched).not.toBe(bundle);
      expect(m.replace.includes(HIT), `${m.name} records when its broken code runs`).toBe(true);
    }
  });

  it('a find text that matches twice, or not at all, fails loudly with the mutant named', () => {
    const m = { name: 'twice', find: 'x = 1;', replace: 'x = 2;' };
    expect(() => applyMutant('x = 1; x = 1;', m, '')).toThrow(/mutant twice: .* 2 times/);
    expect(() => applyMutant('y = 1;', m, '')).toThrow(/mutant twice: .* 0 times/);
    expect(applyMutant('a; x = 1; b', { ...m, replace: `${HIT}; x = $1;` }, 'h()')).toBe('a; h(); x = $1; b');
    // A second patch of the same build obeys the same rule, and both are applied.
    const two = { ...m, also: [{ find: 'y = 1;', replace: 'y = 3;' }] };
    expect(applyMutant('x = 1; y = 1;', two, '')).toBe('x = 2; y = 3;');
    expect(() => applyMutant('x = 1; z = 1;', two, '')).toThrow(/mutant twice: .* 0 times/);
  });

  it('recovery that deletes the jobs it re-queues is caught as lost_message (classic profile, kills every ~5 s)', async () => {
    const m = MUTANTS.find((x) => x.name === 'recovery-deletes-jobs');
    if (m === undefined) throw new Error('mutant recovery-deletes-jobs is gone from the list');
    const build = prepareMutant(ROOT, `test-${m.name}`, m);
    const dir = tempDir('alter0-mutant-');
    const json = path.join(dir, 'soak.json');
    const args = ['--duration', '40s', '--kill-every', '5s', '--job-timeout', '5s', '--long', '2s', '--rate', '1.5'];
    args.push('--seed', '18', '--bin', build.bin, '--out', path.join(dir, 'soak.md'), '--json', json);
    const code = await runSoakProcess(ROOT, args, path.join(dir, 'soak.log'), 170_000);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      passed: boolean;
      violations_by_kind: Record<string, number>;
    };
    const marks = readMarks(build.marks);
    // The soak really ran the mutant's bundle, and its broken recovery ran after a kill.
    expect(marks.starts).toBeGreaterThan(1);
    expect(marks.hits).toBeGreaterThan(0);
    expect(report.violations_by_kind.lost_message).toBeGreaterThan(0);
    expect(report.passed).toBe(false);
    expect(code).toBe(1);
    fs.rmSync(build.dir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 180_000);
});
