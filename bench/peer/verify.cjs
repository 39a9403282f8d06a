// Checks that the peer's query file asks PostGraphile for the same data as the gateway's shapes:
// each answer is compared with the equivalent SQL on the same database. Usage:
//   node bench/peer/verify.cjs http://127.0.0.1:5678/graphql postgres://postgres@127.0.0.1:5432/bench_tm
// Exits 1 on the first difference. Run it on a freshly seeded database.
const { Client } = require('pg');
const q = require('../queries/postgraphile.json').shapes;
const url = process.argv[2],
  db = process.argv[3];
if (!url || !db) {
  console.error('usage: node bench/peer/verify.cjs PEER_GRAPHQL_URL DATABASE_URL');
  process.exit(2);
}
let failed = false;
function report(what, ...checks) {
  const ok = checks.filter((c) => typeof c === 'boolean').every(Boolean);
  if (!ok) failed = true;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`, ...checks.filter((c) => typeof c !== 'boolean'));
}
async function gql(def, vars) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: def.query, variables: vars ?? def.variables }),
  });
  const b = await r.json();
  if (b.errors) throw new Error(JSON.stringify(b.errors));
  return b.data;
}
(async () => {
  const c = new Client({ connectionString: db });
  await c.connect();
  const list = (await gql(q.list)).allTasks.nodes;
  const sqlList = (await c.query(`select id::text, priority from tasks where status='pending' order by priority desc, id desc limit 50`))
    .rows;
  report(
    'list: 50 pending tasks, the same ids as SQL ordered by priority desc, id desc (PostGraphile breaks ties by primary key in the same direction)',
    list.length === 50,
    list.every((t) => t.status === 'pending'),
    JSON.stringify(list.map((t) => t.rowId)) === JSON.stringify(sqlList.map((r) => r.id)),
  );
  const nested = (await gql(q.nested)).allTasks.nodes;
  const sqlNested = (await c.query(`select id::text from tasks order by created_at desc, id desc limit 50`)).rows;
  const execs = (await c.query(`select count(*)::int n from task_executions where task_id = $1`, [nested[0].rowId])).rows[0].n;
  report(
    'nested: the 50 newest tasks, each with its executions',
    JSON.stringify(nested.map((t) => t.rowId)) === JSON.stringify(sqlNested.map((r) => r.id)),
    nested[0].taskExecutionsByTaskId.nodes.length === Math.min(10, execs),
    `(first task: ${execs} executions)`,
  );
  for (const v of q.byId.variables.slice(0, 3)) {
    const t = (await gql(q.byId, v)).taskByRowId;
    const row = (await c.query(`select p.title from tasks t join tasks p on p.id = t.parent_task_id where t.id = $1`, [v.id])).rows[0];
    const ex = (await c.query(`select id::text from task_executions where task_id = $1 order by created_at desc limit 10`, [v.id])).rows;
    report(
      `byId ${v.id}: parent title and newest executions as in SQL`,
      t.taskByParentTaskId.title === row.title,
      ex.length > 0,
      JSON.stringify(t.taskExecutionsByTaskId.nodes.map((e) => e.rowId)) === JSON.stringify(ex.map((e) => e.id)),
    );
  }
  const s = (await gql(q.series)).metricSeries.nodes;
  const sq = (
    await c.query(
      `select date_bin('5 minutes', timestamp, $2::timestamptz) b, count(*)::int n, avg(metric_value)::float8 a, max(metric_value)::float8 mx from system_metrics where metric_name=$1 and timestamp >= $2 and timestamp < $3 group by 1 order by 1`,
      [q.series.variables.name, q.series.variables.from, q.series.variables.to],
    )
  ).rows;
  report(
    `series: ${s.length} five-minute buckets with the count, avg and max of SQL`,
    s.length === sq.length,
    s.length > 0,
    s.every((b, i) => b.count === sq[i].n && b.max === sq[i].mx && Math.abs(b.avg - sq[i].a) < 1e-9),
  );
  const created = (
    await gql(q.create, { input: { task: { title: 'verify create', priority: 3, requirements: { language: 'typescript' } } } })
  ).createTask.task.rowId;
  const made = (await c.query(`select title, priority, requirements from tasks where id = $1`, [created])).rows[0];
  report(
    'create: the task is stored with its title, priority and requirements',
    made?.title === 'verify create',
    made?.priority === 3,
    made?.requirements?.language === 'typescript',
  );
  await c.query(`delete from tasks where id = $1`, [created]);
  await c.end();
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
