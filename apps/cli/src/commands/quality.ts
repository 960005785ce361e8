import path from 'node:path';
import { ValidationError } from '@alter0/core';
import type { Executor, ExecutorKind } from '@alter0/core';
import { createExecutor, executorConfigFor } from '@alter0/executor';
import type { PromptTemplate, RateCount } from '@alter0/model-call';
import { replayExecutor } from '@alter0/model-call';
import * as routing from '@alter0/routing';
import * as closing from '@alter0/closing';
import { loadLocalConfig } from '../config-args.js';
import type { DecisionsArgs, EvalArgs, PromptsArgs } from '../descriptors/quality.js';
import { clientFor } from './client.js';
import { table } from '../format.js';
import { output } from '../output.js';
import { listMemoryTemplates, loadMemoryTemplate } from '@alter0/memory';

const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

function categoryTable(byCategory: Record<string, RateCount>): string {
  return table(
    Object.entries(byCategory).map(([category, c]) => ({
      category,
      passed: `${c.passed}/${c.total}`,
      rate: pct(c.passRate),
    })),
    ['category', 'passed', 'rate'],
  );
}

/** `ID@VERSION` → the template, from whichever package owns that id. */
function loadAnyTemplate(ref: string): PromptTemplate {
  const m = /^([a-z0-9_-]+)@([a-z0-9_.-]+)$/i.exec(ref);
  if (!m)
    throw new ValidationError(`name a template as ID@VERSION, e.g. router@v1 (see alter0 prompts list), not "${ref}"`);
  const [, id, version] = m as unknown as [string, string, string];
  if (id === 'memory') return loadMemoryTemplate(version);
  return id === 'closer' ? closing.loadTemplate(id, version) : routing.loadTemplate(id, version);
}

/** `alter0 prompts list|show`. */
export function prompts(args: PromptsArgs): void {
  if (args.action === 'list') {
    const all = [...routing.listTemplates(), ...closing.listTemplates(), ...listMemoryTemplates()];
    if (args.json) return void output.json(all);
    output.text(
      table(
        all.map((t) => ({ template: `${t.id}@${t.version}`, hash: t.hash })),
        ['template', 'hash'],
      ),
    );
    return;
  }
  if (!args.ref) throw new ValidationError('prompts show needs ID@VERSION, e.g. alter0 prompts show router@v1');
  const t = loadAnyTemplate(args.ref);
  if (args.json) return void output.json(t);
  output.text(`# ${t.id}@${t.version} (sha256 ${t.hash})\n\n${t.text}`);
}

/** `alter0 decisions`: the recent route and close decisions, as tables. */
export async function decisions(a: DecisionsArgs): Promise<void> {
  const r = await clientFor(a).decisions({ limit: a.limit ?? 30, task_id: a.task || undefined, kind: a.kind });
  if (a.json) return void output.json(r);
  if (!a.kind || a.kind === 'route') {
    output.text(
      `ROUTE\n${table(
        r.route.map((d) => ({ ...d, template: `${String(d.template_id)}@${String(d.template_version)}` })),
        [
          'created_at',
          'job_id',
          'task_id',
          'decision',
          'confidence',
          'fallback',
          'model_called',
          'latency_ms',
          'template',
          'reason',
        ],
      )}\n`,
    );
  }
  if (!a.kind || a.kind === 'close') {
    output.text(
      `CLOSE\n${table(r.close, ['created_at', 'task_id', 'source', 'action', 'confidence', 'fallback', 'latency_ms', 'reason'])}`,
    );
  }
}

function evalExecutor(args: EvalArgs, replayOutput: string | undefined): Executor {
  const kind = args['eval-executor'] ?? 'replay';
  if (kind === 'replay') return replayExecutor(replayOutput);
  const { config } = loadLocalConfig(args);
  return createExecutor(executorConfigFor(config, kind as ExecutorKind));
}

/** `alter0 eval routing|closing`: the regression set scored, by category; --min-pass sets the exit code. */
export async function evaluate(a: EvalArgs): Promise<void> {
  const { config } = loadLocalConfig(a);
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  const cwd = path.join(config.data_dir, 'workspaces', '.eval');
  await import('node:fs').then((fs) => fs.mkdirSync(cwd, { recursive: true }));
  let passRate: number;
  if (a.kind === 'routing') {
    const cases = routing.loadCases(a.cases);
    const r = await routing.evaluateRouting(cases, {
      executorFor: (c) => evalExecutor(a, c.model_output),
      threshold: config.router.threshold,
      maxCandidates: config.router.max_candidates,
      template: routing.loadTemplate('router', a.template ?? config.router.template),
      timeoutMs: config.router.timeout_s * 1000,
      cwd,
      signal: ac.signal,
    });
    passRate = r.passRate;
    if (a.json) output.json(r);
    else {
      output.text(categoryTable(r.byCategory));
      output.text(
        `overall ${r.passed}/${r.total} = ${pct(r.passRate)}   wrong-attach ${pct(r.wrongAttachRate)}   recall@${r.k} ${pct(r.recallAtK)}`,
      );
      for (const f of r.results.filter((x) => !x.passed)) {
        output.text(
          `FAIL ${f.id} (${f.category}): expected ${f.expected.decision} ${f.expected.taskId ?? ''}, got ${f.got.decision} ${f.got.taskId ?? ''} [${f.got.fallback ?? 'no fallback'}] ${f.got.reason}`,
        );
      }
    }
  } else {
    const cases = closing.loadCloseCases(a.cases);
    const r = await closing.evaluateClosing(cases, {
      executorFor: (c) => evalExecutor(a, c.model_output),
      threshold: config.closer.threshold,
      template: closing.loadTemplate('closer', a.template ?? config.closer.template),
      timeoutMs: config.closer.timeout_s * 1000,
      cwd,
      signal: ac.signal,
    });
    passRate = r.passRate;
    if (a.json) output.json(r);
    else {
      output.text(categoryTable(r.byCategory));
      output.text(
        `overall ${r.passed}/${r.total} = ${pct(r.passRate)}   false-close ${pct(r.falseCloseRate)}   missed-close ${pct(r.missedCloseRate)}`,
      );
      for (const f of r.results.filter((x) => !x.passed)) output.text(`FAIL ${f.id} (${f.category})`);
    }
  }
  if (a['min-pass'] !== undefined && passRate < a['min-pass']) {
    output.note(`pass rate ${pct(passRate)} is below --min-pass ${pct(a['min-pass'])}`);
    process.exitCode = 1;
  }
}
