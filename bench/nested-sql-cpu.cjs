// PostgreSQL backend CPU per statement (utime+stime of the backend from /proc, Linux, server on this
// machine) for three forms of the nested shape's SQL, unnamed and as named prepared statements; CPU
// time moves less than wall time on a busy machine. RESULTS.md, round 5. Usage:
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_tm node bench/nested-sql-cpu.cjs [statements per form]
const { Client } = require('pg');
const fs = require('fs');
const TICK = 10; // ms per clock tick (CLK_TCK 100)
const cpu = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK;
};
const F = `WHERE t.created_at < '2026-01-01'`;
const EXEC = `SELECT e.id AS "id", e.status AS "status", e.agent_type AS "agentType", to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt" FROM task_executions e WHERE e.task_id = r0."id" ORDER BY e.created_at DESC, e.id DESC LIMIT $1`;
const ROOT = `SELECT t.id AS "id", t.title AS "title" FROM tasks t ${F} ORDER BY t.created_at DESC, t.id DESC LIMIT $2`;
const variants = {
  'A ours (json tree, as planned today)': `SELECT (SELECT coalesce(json_agg(j), '[]'::json) FROM (SELECT r0.*, (SELECT coalesce(json_agg(j), '[]'::json) FROM (${EXEC}) j) AS "@executions" FROM (${ROOT}) r0) j) AS rows`,
  'C ours, rows at the root': `SELECT r0.*, (SELECT coalesce(json_agg(j), '[]'::json) FROM (${EXEC}) j) AS "@executions" FROM (${ROOT}) r0`,
  'B PostGraphile (text arrays)': `select __tasks__."id" as "0", __tasks__."title" as "1", array(select array[__task_executions__."id", __task_executions__."status", __task_executions__."agent_type", to_char(__task_executions__."created_at", 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'::text)]::text[] from "public"."task_executions" as __task_executions__ where (__task_executions__."task_id" = __tasks__."id") order by __task_executions__."created_at" desc, __task_executions__."id" desc limit $1)::text as "2" from "public"."tasks" as __tasks__ WHERE __tasks__.created_at < '2026-01-01' order by __tasks__."created_at" desc, __tasks__."id" desc limit $2`,
};
(async () => {
  const c = new Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  const pid = (await c.query('select pg_backend_pid() p')).rows[0].p;
  const N = Number(process.argv[2] ?? 1000);
  const results = {};
  for (let round = 0; round < 3; round++) {
    for (const [name, text] of Object.entries(variants)) {
      for (const named of [false, true]) {
        const q = named ? { name: 'v' + name[0], text, values: [10, 50] } : { text, values: [10, 50] };
        for (let i = 0; i < 20; i++) await c.query(q);
        const before = cpu(pid);
        for (let i = 0; i < N; i++) await c.query(q);
        const ms = (cpu(pid) - before) / N;
        (results[`${name}${named ? ', named prepared' : ', unnamed (as TypeORM sends)'}`] ??= []).push(ms.toFixed(3));
      }
    }
  }
  for (const [k, v] of Object.entries(results)) console.log(`${k}: ${v.join(' / ')} ms CPU per statement`);
  await c.end();
})();
