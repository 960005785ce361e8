import os from 'node:os';
import { defineConfig } from 'vitest/config';
import projects from './vitest.workspace.js';

export default defineConfig({
  test: {
    projects,
    // vitest's default (cores - 1) runs one file at a time on a 2-core machine, yet most test time is spent
    // waiting on child processes (daemons starting, agents answering): two files at once use the cores better.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
  },
});
