#!/usr/bin/env node
// Entry shim kept outside dist/ so the package manager can link it before the first build.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `alter0 needs Node.js >= 22 (this is ${process.version}).\n` +
      'Run it as tooling/alter0 (which uses the Node that tooling/setup.sh installed), ' +
      'or put .tools/node/bin first on PATH.\n',
  );
  process.exit(78);
}
await import('../dist/bin.js');
