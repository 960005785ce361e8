// The test projects: every package and app is its own vitest project (its folder, or its own
// vitest.config.ts where it needs one). vitest.config.ts hands this list to `test.projects`.
export default ['packages/*', 'apps/*'];
