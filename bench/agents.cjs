// Claim + finish throughput of the agent work protocol (issue 23) at 1, 16 and 64 agents: for each,
// 2,000 ready tasks of a fresh type are inserted straight into the database, then N agents loop
// claimTask -> finishExecution(SUCCEEDED) over HTTP until nothing is ready. Prints jobs/s and claim
// latency (p50/p95), and checks every task was finished exactly once. Against a running gateway:
//   GATEWAY_URL=http://127.0.0.1:4000/graphql TOKEN=<operator token> DATABASE_URL=postgres://... \
//     node bench/agents.cjs [tasks] [agent counts, comma-separated]
// (A graphile-worker run beside it, for the ratio the issue asks for, is not part of this script.)
const { Client } = require('pg');
const { performance } = require('node:perf_hooks');
const { fetch } = globalThis;

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
const token = process.env.TOKEN;
const TASKS = Number(process.argv[2] ?? 2000);
const AGENTS = (process.argv[3] ?? '1,16,64').split(',').map(Number);

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

(async () => {
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  for (const agents of AGENTS) {
    const type = `bench-${agents}-${Date.now()}`;
    await db.query(`INSERT INTO tasks (title, type, priority) SELECT 'bench ' || i, $1, i % 10 FROM generate_series(1, $2::int) i`, [
      type,
      TASKS,
    ]);
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
    console.log(
      `${agents} agents: ${(TASKS / seconds).toFixed(0)} jobs/s (claim+finish), claim p50 ${pct(claims, 0.5).toFixed(1)} ms, p95 ${pct(claims, 0.95).toFixed(1)} ms, ` +
        `errors ${errors}, executions ${check.executions} over ${check.tasks} of ${TASKS} tasks`,
    );
  }
  await db.end();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
