// Where a daemon's CPU time went: self time from a V8 .cpuprofile (node --cpu-prof), grouped by the code that
// spent it (an alter0 package, a dependency, Node's internals, GC, idle), by function, and by the nearest alter0
// function on the stack (which of alter0's own calls the library and native time was spent for).
//
//   node tooling/bench/cpuprofile-top.ts <file.cpuprofile> [--top 25] [--json]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { intOption, printReport, round } from './lib.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, json: { type: 'boolean', default: false } },
});
const TOP = intOption('top', values.top, 25);
const file = positionals[0];
if (file === undefined) {
  console.error('usage: node tooling/bench/cpuprofile-top.ts <file.cpuprofile> [--top 25] [--json]');
  process.exit(2);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The owner of a script URL: an alter0 package, an npm dependency, Node itself, or V8's pseudo-frames. */
function ownerOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[1] ?? url.slice(5));
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep?.[1] !== undefined) return dep[1];
  const own = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (own?.[2] !== undefined) return `@alter0/${own[2]}`;
  return url;
}

const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const isOwn = (url: string): boolean => /\/(packages|apps)\/[^/]+\//.test(url) && !url.includes('node_modules');
/** `@alter0/store/jobs-repo.js` for an alter0 script URL (line numbers are those of the built dist/ file). */
const ownFile = (url: string): string => {
  const m = /\/(?:packages|apps)\/([^/]+)\/(?:dist\/|src\/)?(.+)$/.exec(url);
  return m === null ? url : `@alter0/${m[1]}/${m[2]}`;
};
/** The nearest alter0 function on the stack of a sample: who asked for the time spent in libraries below it. */
function ownCaller(id: number): string {
  for (let cur: number | undefined = id, hops = 0; cur !== undefined && hops < 200; cur = parentOf.get(cur), hops++) {
    const f = byId.get(cur)?.callFrame;
    if (f !== undefined && isOwn(f.url))
      return `${f.functionName || '(anonymous)'} ${ownFile(f.url)}:${f.lineNumber + 1}`;
  }
  return '(no alter0 frame)';
}
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i] ?? -1;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
let total = 0;
const owners = new Map<string, number>();
const functions = new Map<string, number>();
const callers = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (n === undefined) continue;
  total += us;
  const { functionName, url, lineNumber } = n.callFrame;
  const owner = ownerOf(url, functionName);
  owners.set(owner, (owners.get(owner) ?? 0) + us);
  const name = `${functionName || '(anonymous)'} ${owner}${url === '' ? '' : `:${lineNumber + 1}`}`;
  functions.set(name, (functions.get(name) ?? 0) + us);
  if (functionName !== '(idle)') {
    const caller = ownCaller(id);
    callers.set(caller, (callers.get(caller) ?? 0) + us);
  }
}
const busy = total - (owners.get('(idle)') ?? 0);
const rank = (m: Map<string, number>): Record<string, string> =>
  Object.fromEntries(
    [...m.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([k, us]) => [k, `${round(us / 1000)} ms (${round((100 * us) / busy)}% of busy)`]),
  );
printReport(
  'cpuprofile',
  {
    file,
    wall_ms: round(total / 1000),
    busy_ms: round(busy / 1000),
    idle_pct: round((100 * (total - busy)) / total),
    ...Object.fromEntries(Object.entries(rank(owners)).map(([k, v]) => [`by_owner ${k}`, v])),
    ...Object.fromEntries(Object.entries(rank(functions)).map(([k, v]) => [`fn ${k}`, v])),
    ...Object.fromEntries(Object.entries(rank(callers)).map(([k, v]) => [`alter0 caller ${k}`, v])),
  },
  values.json,
);
