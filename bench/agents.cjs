// Claim + finish throughput of the agent work protocol (issue 23) at 1, 16 and 64 agents, beside
// graphile-worker doing the same work on the same PostgreSQL in the same run. For each agent count:
//  - gateway: N ready tasks of a fresh type are inserted straight into the database, then that many
//    agents loop claimTask -> finishExecution(SUCCEEDED) over HTTP until nothing is ready;
//  - graphile-worker: N jobs are added with its own add_jobs (one call), then a worker with a no-op
//    task runs at that concurrency until all N succeeded.
// Prints jobs/s both sides and their ratio, claim latency (gateway p50/p95), and checks every task /
// job was done exactly once. Against a running gateway (graphile-worker runs in this process):
//   GATEWAY_URL=http://127.0.0.1:4000/graphql TOKEN=<operator token> DATABASE_URL=postgres://... \
//     node bench/agents.cjs [tasks] [agent counts, comma-separated] [rounds]
// graphile-worker comes from bench/peer (npm --prefix bench/peer install). ROUNDS > 1 alternates the
// two sides and reports medians. GW_POOL (default: concurrency + 2, at most 20,
// so a shared server's max_connections holds; the gateway's own pool is DB_POOL_MAX, default 10)
// sizes graphile-worker's pool.
// ONLY=gateway or ONLY=graphile-worker runs one side (for profiling one of them). After seeding, each
// side's queue table is ANALYZEd (not timed), as autovacuum would have done on a server where it is on
// (it is off on the shared PostgreSQL here, and a claim planned on no statistics sorts every ready
// task: bench/RESULTS.md); ANALYZE=0 leaves the statistics as they are.
const { Client } = require('pg');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { fetch, setTimeout } = globalThis;

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
const token = process.env.TOKEN;
const TASKS = Number(process.argv[2] ?? 2000);
const AGENTS = (process.argv[3] ?? '1,16,64').split(',').map(Number);
const ROUNDS = Number(process.argv[4] ?? 1);
const ONLY = process.env.ONLY;
const ANALYZE = process.env.ANALYZE !== '0';

async function gql(query, variables) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const CLAIM = 'mutation($i: ClaimTaskInput!) { claimTask(input: $i) { id leaseToken } }';
const FINISH = 'mutation($i: FinishExecutionInput!) { finishExecution(input: $i) { id } }';
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const median = (xs) => pct(xs, 0.5);

async function gateway(db, agents) {
  if (ONLY === 'graphile-worker') return { jobsPerSecond: NaN, p50: NaN, p95: NaN, errors: 0, exact: true };
  const type = `bench-${agents}-${Date.now()}`;
  await db.query(`INSERT INTO tasks (title, type, priority) SELECT 'bench ' || i, $1, i % 10 FROM generate_series(1, $2::int) i`, [
    type,
    TASKS,
  ]);
  if (ANALYZE) await db.query('ANALYZE tasks, task_dependencies');
  const claims = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: agents }, async () => {
      for (;;) {
        const t0 = performance.now();
        const c = await gql(CLAIM, { i: { agentType: 'bench', leaseSeconds: 300, filter: { taskTypes: [type] } } });
        claims.push(performance.now() - t0);
        if (c.errors && errors++ === 0) console.error(JSON.stringify(c.errors));
        const e = c.data?.claimTask;
        if (!e) return;
        const f = await gql(FINISH, { i: { id: e.id, leaseToken: e.leaseToken, status: 'SUCCEEDED' } });
        if (f.errors && errors++ === 0) console.error(JSON.stringify(f.errors));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const [check] = (
    await db.query(
      `SELECT count(*)::int AS executions, count(DISTINCT e.task_id)::int AS tasks FROM task_executions e JOIN tasks t ON t.id = e.task_id WHERE t.type = $1`,
      [type],
    )
  ).rows;
  const exact = check.executions === TASKS && check.tasks === TASKS;
  return { jobsPerSecond: TASKS / seconds, p50: pct(claims, 0.5), p95: pct(claims, 0.95), errors, exact };
}

async function graphileWorker(gw, db, concurrency) {
  if (ONLY === 'gateway') return { jobsPerSecond: NaN, errors: 0, exact: true };
  const name = `noop_${concurrency}_${Date.now()}`;
  const utils = await gw.makeWorkerUtils({ connectionString: process.env.DATABASE_URL });
  await utils.migrate();
  await utils.addJobs(Array.from({ length: TASKS }, (_, i) => ({ identifier: name, payload: { i } })));
  await utils.release();
  if (ANALYZE) await db.query('ANALYZE graphile_worker._private_jobs, graphile_worker._private_tasks');
  const seen = new Map();
  let errors = 0;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const started = performance.now();
  const runner = await gw.run({
    connectionString: process.env.DATABASE_URL,
    concurrency,
    maxPoolSize: Number(process.env.GW_POOL ?? Math.min(concurrency + 2, 20)),
    noHandleSignals: true,
    pollInterval: 1000,
    logger: new gw.Logger(() => () => {}),
    taskList: { [name]: async () => {} },
  });
  runner.events.on('job:success', ({ job }) => {
    seen.set(job.id, (seen.get(job.id) ?? 0) + 1);
    if (seen.size === TASKS) resolveDone();
  });
  runner.events.on('job:error', () => errors++);
  await done;
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  // job:success is emitted before the job's row is deleted: give the last completions a moment to commit
  let left = { n: -1 };
  for (let i = 0; i < 50 && left.n !== 0; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    [left] = (await db.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1`, [name])).rows;
  }
  const twice = [...seen.values()].filter((n) => n > 1).length;
  const exact = seen.size === TASKS && twice === 0 && left.n === 0;
  if (!exact) console.error(`graphile-worker at ${concurrency}: ${seen.size} jobs succeeded, ${twice} more than once, ${left.n} left`);
  return { jobsPerSecond: TASKS / seconds, errors, exact };
}

(async () => {
  const peer = createRequire(join(__dirname, 'peer', 'package.json'));
  const gw = await import(peer.resolve('graphile-worker'));
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  console.log(`${TASKS} tasks/jobs per run, ${ROUNDS} round(s), ANALYZE after seeding: ${ANALYZE}; gateway ${url}`);
  for (const agents of AGENTS) {
    const ours = [];
    const theirs = [];
    for (let round = 0; round < ROUNDS; round++) {
      // alternate which side goes first, so neither always runs on a warmer (or more bloated) database
      if (round % 2 === 0) {
        ours.push(await gateway(db, agents));
        theirs.push(await graphileWorker(gw, db, agents));
      } else {
        theirs.push(await graphileWorker(gw, db, agents));
        ours.push(await gateway(db, agents));
      }
    }
    const o = median(ours.map((r) => r.jobsPerSecond));
    const g = median(theirs.map((r) => r.jobsPerSecond));
    console.log(
      `${agents} agents: gateway ${o.toFixed(0)} jobs/s (claim p50 ${median(ours.map((r) => r.p50)).toFixed(1)} ms, ` +
        `p95 ${median(ours.map((r) => r.p95)).toFixed(1)} ms, errors ${ours.reduce((n, r) => n + r.errors, 0)}, ` +
        `exactly once ${ours.every((r) => r.exact)}) | graphile-worker ${g.toFixed(0)} jobs/s (errors ${theirs.reduce((n, r) => n + r.errors, 0)}, ` +
        `exactly once ${theirs.every((r) => r.exact)}) | ratio ${(o / g).toFixed(2)}`,
    );
  }
  await db.end();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
