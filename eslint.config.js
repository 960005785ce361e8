import fs from 'node:fs';
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

/*
 * The package map of docs/architecture.md ("Packages") as code: what each workspace package's `src/` may import
 * of @alter0/*. Tests (`test/`) may import the same plus `test` (the test-only packages). A package missing
 * here may import no @alter0 package: add its row (and its row in the docs) when you add it.
 */
const EVERY_PACKAGE = [
  'core',
  'config',
  'obs',
  'api',
  'model-call',
  'store',
  'executor',
  'routing',
  'closing',
  'queue',
  'maintenance',
  'channels',
  'memory',
  'schedules',
];
const TEST_ONLY = ['fakes', 'testkit'];
const LAYERS = {
  core: { src: [] },
  config: { src: ['core'] },
  obs: { src: ['core'] },
  api: { src: ['core'] },
  'model-call': { src: ['core'] },
  store: { src: ['core'] },
  channels: { src: ['core'] },
  memory: { src: ['core', 'model-call'] },
  schedules: { src: ['core', 'config'] },
  executor: { src: ['core', 'config'] },
  routing: { src: ['core', 'model-call'] },
  closing: { src: ['core', 'model-call'] },
  queue: { src: ['core', 'store'] },
  maintenance: { src: ['core', 'config', 'obs', 'store', 'executor'] },
  fakes: { src: [], test: ['core', 'executor', 'api'] },
  testkit: { src: ['core', 'api'] },
  daemon: { src: EVERY_PACKAGE },
  cli: { src: [...EVERY_PACKAGE, 'daemon', 'soak'], test: ['daemon', 'soak'] },
  web: { src: ['core', 'api'] },
  soak: { src: ['api', 'fakes', 'maintenance', 'testkit'] },
  tooling: { src: ['api', 'core', 'executor', 'fakes', 'routing', 'store', 'testkit'] },
};

/** The directory of the nearest package.json above `file`, and that package's short name (cached per directory). */
const roots = new Map();
function packageOf(file) {
  const dir = path.dirname(file);
  if (!roots.has(dir)) {
    const manifest = path.join(dir, 'package.json');
    const parent = path.dirname(dir);
    if (fs.existsSync(manifest)) {
      const name = JSON.parse(fs.readFileSync(manifest, 'utf8')).name ?? '';
      roots.set(dir, { root: dir, name: name.replace(/^@alter0\//, '') });
    } else {
      roots.set(dir, parent === dir ? null : packageOf(path.join(parent, 'x')));
    }
  }
  return roots.get(dir);
}

/** One rule for the seams between workspace packages (docs/architecture.md, "Packages"). */
const boundaries = {
  meta: {
    type: 'problem',
    schema: [],
    docs: { description: 'imports across workspace packages follow the package map' },
  },
  create(context) {
    const file = context.physicalFilename;
    const own = packageOf(file);
    if (own === null || own.name === 'alter0-monorepo') return {};
    const inTest = path.relative(own.root, file).split(path.sep)[0] === 'test';
    const layer = LAYERS[own.name] ?? { src: [] };
    const allowed = new Set([...layer.src, ...(inTest ? [...(layer.test ?? []), ...TEST_ONLY] : [])]);
    const check = (node) => {
      const spec = node?.value;
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (target !== own.root && !target.startsWith(own.root + path.sep)) {
          context.report({
            node,
            message: `'${spec}' leaves the package ${own.name} by relative path; import the other package by its name (@alter0/…) and public entry`,
          });
        }
        return;
      }
      const m = /^@alter0\/([^/]+)(\/.*)?$/.exec(spec);
      if (m === null || m[1] === own.name) return;
      if (m[2] !== undefined && /^\/(src|dist)(\/|$)/.test(m[2])) {
        context.report({
          node,
          message: `'${spec}' reaches into ${m[1]}'s ${m[2].split('/')[1]}/; import its public entry '@alter0/${m[1]}'`,
        });
      } else if (!allowed.has(m[1])) {
        context.report({
          node,
          message: `${own.name}${inTest ? ' tests' : ''} may not import @alter0/${m[1]} (may import: ${[...allowed].join(', ') || 'no @alter0 package'}); see the package map in docs/architecture.md`,
        });
      }
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
    };
  },
};

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', '**/*.d.ts', 'apps/web/dist/**', 'coverage/**'],
  },
  js.configs.recommended,
  // Typed lint: the rules that need the type checker (floating promises, unsafe any, awaiting non-promises…).
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { alter0: { rules: { boundaries } } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'alter0/boundaries': 'error',
      // Dependencies are injected as plain records of functions (deps.wake, api.getJob, logger.warn) that never
      // use `this`; the rule cannot tell them from class methods and would flag every destructuring of them.
      '@typescript-eslint/unbound-method': 'off',
      // An abort rejects with the signal's reason, whatever it is, as the platform's own APIs do.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
    },
  },
  {
    // Tests, tooling and configs are typed by the root tsconfig.test.json, which the project service (nearest
    // tsconfig.json) does not find. The console's tests are in apps/web/tsconfig.json.
    files: [
      'packages/*/test/**/*.ts',
      'apps/{cli,daemon}/test/**/*.ts',
      'tooling/**/*.ts',
      '*.ts',
      '{apps,packages}/*/*.config.ts',
    ],
    ignores: ['tooling/soak/**', 'apps/web/**'],
    languageOptions: { parserOptions: { projectService: false, project: './tsconfig.test.json' } },
  },
  {
    // Test doubles implement async interfaces with synchronous bodies; vitest's asymmetric matchers
    // (expect.stringContaining …) are typed `any`.
    files: ['**/test/**/*.{ts,tsx}'],
    rules: { '@typescript-eslint/require-await': 'off', '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // A function that carries a whole subsystem is split into named steps (docs/architecture.md).
    files: ['**/src/**/*.{ts,tsx}'],
    rules: { 'max-lines-per-function': ['error', { max: 80, IIFEs: true }] },
  },
  {
    // Plain JavaScript (this file, test fixtures' programs) has no types to check.
    files: ['**/*.{js,mjs,cjs}'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The console: hooks called unconditionally, and effects and memos that list everything they read.
    files: ['apps/web/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
);
