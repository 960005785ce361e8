import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The testkit is for tests and the tooling harnesses only: no product package may ship a dependency on it.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const products = ['apps', 'packages']
  .flatMap((d) => readdirSync(join(ROOT, d)).map((n) => join(ROOT, d, n)))
  .filter((p) => !p.endsWith('testkit'));

function sources(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(sources(p));
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

describe('@alter0/testkit boundary', () => {
  it('no product src/ imports it and no product package.json lists it outside devDependencies', () => {
    const offenders: string[] = [];
    for (const pkg of products) {
      let manifest: { dependencies?: Record<string, string> };
      try {
        manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as typeof manifest;
      } catch {
        continue;
      }
      if (manifest.dependencies?.['@alter0/testkit'] !== undefined) offenders.push(`${pkg}/package.json dependencies`);
      let files: string[] = [];
      try {
        files = sources(join(pkg, 'src'));
      } catch {
        // No src/.
      }
      for (const f of files) if (readFileSync(f, 'utf8').includes('@alter0/testkit')) offenders.push(f);
    }
    expect(products.length).toBeGreaterThan(5);
    expect(offenders).toEqual([]);
  });
});
