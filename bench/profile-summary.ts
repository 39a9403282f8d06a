// Sums a V8 CPU profile (`node --cpu-prof`) by where the time goes: self time of each sample
// attributed to a layer by the script that holds the function (or by its name, for V8 built-ins).
// Usage: node -r @swc-node/register bench/profile-summary.ts FILE.cpuprofile [--top N] [--requests N]
// With --requests (the requests the profile covers, e.g. the `.requests` file bench/cpu-prof-window.cjs
// writes), each layer is also given in ms per request. Samples in `writev` itself are counted apart:
// on a busy 2-core machine writing to a local PostgreSQL or client socket wakes the reader, which
// often runs first while this thread waits, so their wall time is mostly not this process's CPU
// (RESULTS.md, round 6).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const LAYERS: [string, RegExp][] = [
  [
    'HTTP framework (express, body parsing, node:http)',
    /node_modules\/(express|body-parser|router|raw-body|iconv-lite|qs|send|finalhandler|on-finished|type-is|content-type|mime|negotiator|accepts|depd|@as-integrations)|node:(_http|http|net|stream|internal\/streams|internal\/http|events|buffer|string_decoder|zlib)/,
  ],
  ['Apollo pipeline and plugins', /@apollo\/|src\/graphql\/(apollo|plugins)|src\/auth\/anonymous/],
  ['auth, budget, cost', /src\/(auth|security)\/(?!redact)/],
  [
    'logging (winston)',
    /node_modules\/(winston|logform|triple-beam|readable-stream|safe-stable-stringify|@colors|fecha)|src\/logger|src\/security\/redact/,
  ],
  [
    'executor (graphql-jit, graphql-js)',
    /node_modules\/(graphql-jit|graphql|fast-json-stringify|generate-function|lodash)|src\/graphql\/jit/,
  ],
  [
    'resolvers, type-graphql, validation',
    /node_modules\/(type-graphql|class-validator|class-transformer|reflect-metadata|graphql-scalars)|src\/(tasks|executions|integrations|metrics)\/.*(resolver|loaders)|src\/graphql\/(selection|scalars|loaders|context)|dataloader/,
  ],
  [
    'planning and services (our SQL building)',
    /src\/(tasks|executions|integrations|metrics)\/.*(service|query)|src\/graphql\/(connection|sql|cursor|filters|planner)|src\/db\/|src\/audit/,
  ],
  ['pg driver and row parsing (pg, TypeORM)', /node_modules\/(pg|pg-protocol|pg-types|pg-pool|postgres-|pgpass|typeorm)/],
];

function layer(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return 'V8/native (program)';
    if (/stringify/i.test(functionName)) return 'serialisation (JSON.stringify)';
    if (/^parse$|JSONParse/.test(functionName)) return 'JSON.parse';
    if (functionName === '(root)') return '(root)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  for (const [name, pattern] of LAYERS) if (pattern.test(url)) return name;
  if (/^node:/.test(url)) return 'node core (other)';
  return 'other';
}

const [file, ...rest] = process.argv.slice(2);
const top = Number(rest[rest.indexOf('--top') + 1]) || 15;
const requests = rest.includes('--requests') ? Number(rest[rest.indexOf('--requests') + 1]) : 0;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, ProfileNode>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
// Native and node-core frames are charged to the nearest caller in a package or in our code (a
// socket's writev to whoever wrote); start-up (module loading, SWC compiling) is left out.
const STARTUP = /node:internal\/modules\/|@swc\/core|@swc-node/;
const attributed = new Map<number, string | null>();
function attribute(node: ProfileNode): string | null {
  let known = attributed.get(node.id);
  if (known !== undefined) return known;
  const own = layer(node);
  const p = parent.get(node.id);
  if (STARTUP.test(node.callFrame.url)) known = null;
  else if (
    p &&
    (own.startsWith('native: ') ||
      own === 'node core (other)' ||
      (own === 'HTTP framework (express, body parsing, node:http)' && node.callFrame.url.startsWith('node:')))
  ) {
    const up = attribute(p);
    known = up === null ? null : up === 'other' || up === '(root)' ? own : up;
  } else known = own;
  attributed.set(node.id, known);
  return known;
}
const byLayer = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
let idle = 0;
let writev = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const node = byId.get(id)!;
  const l = attribute(node);
  if (l === null) return;
  if (l === '(idle)') {
    idle += dt;
    return;
  }
  if (node.callFrame.functionName === 'writev' && !node.callFrame.url) {
    writev += dt;
    return;
  }
  total += dt;
  byLayer.set(l, (byLayer.get(l) ?? 0) + dt);
  const fn = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/src\//, 'src/')}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
});
const pct = (v: number) => ((100 * v) / total).toFixed(1).padStart(5);
const perRequest = (v: number) => (requests ? `  ${(v / 1e3 / requests).toFixed(3).padStart(6)} ms/req` : '');
console.log(
  `busy ${(total / 1e6).toFixed(2)} s${perRequest(total)}, idle ${(idle / 1e6).toFixed(2)} s, in writev (not counted as busy) ${(writev / 1e6).toFixed(2)} s${perRequest(writev)}`,
);
for (const [l, v] of [...byLayer].sort((a, b) => b[1] - a[1])) console.log(`${pct(v)} %${perRequest(v)}  ${l}`);
console.log(`\ntop ${top} functions (self time):`);
for (const [f, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)} %  ${f}`);
