// PostgreSQL backend CPU per statement (utime+stime of the backend from /proc, Linux, server on this
// machine) for the `create` shape's audited INSERT: main's form before round 6 and this one, unnamed
// and as named prepared statements, against a bare INSERT (the peer's, no audit row). Every
// statement commits a task and an audit row: use a bench database. RESULTS.md, round 6. Usage:
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_tm node bench/create-sql-cpu.cjs [statements per form]
const { Client } = require('pg');
const fs = require('fs');
const TICK = 10; // ms per clock tick (CLK_TCK 100)
const cpu = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK;
};
const cols = require('./task-columns.cjs');
const image = (a) => cols.map(([, c]) => `${a}."${c}"`).join(', ');
const json = (a) => `jsonb_build_object(${cols.map(([p, c]) => `'${p}', ${a}."${c}"`).join(', ')})`;
const output = cols.map(([p, c]) => `c."${c}" AS "${p}"`).join(', ');
const AUDIT = 'occurred_at, actor_kind, actor_id, actor_name, actor_role, operation, entity, entity_id, changes, request_id';
const INSERT = `INSERT INTO tasks AS w ("title", "priority", "requirements") VALUES ($1, $2, $3::jsonb)`;
// main before round 6: the union of both images' keys, secrets masked by a parameter list
const side = (img) =>
  `CASE WHEN k = ANY($11::text[]) AND coalesce(${img}->k, 'null') <> 'null' THEN to_jsonb('[secret]'::text) ELSE coalesce(${img}->k, 'null') END`;
const unionDiff = `(SELECT coalesce(jsonb_object_agg(k, jsonb_build_object('before', ${side('img.b')}, 'after', ${side('img.a')})), '{}'::jsonb)
     FROM (SELECT NULL::jsonb AS b, ${json('c')} AS a) img,
          LATERAL (SELECT jsonb_object_keys(coalesce(img.b, '{}')) UNION SELECT jsonb_object_keys(coalesce(img.a, '{}'))) keys(k)
     WHERE coalesce(img.b->k, 'null') IS DISTINCT FROM coalesce(img.a->k, 'null'))`;
// round 6: one image, walked once; tasks have no secret column
const eachDiff = `(SELECT coalesce(jsonb_object_agg(e.key, jsonb_build_object('before', NULL, 'after', e.value)), '{}'::jsonb)
     FROM jsonb_each(${json('c')}) e WHERE e.value <> 'null'::jsonb)`;
const audited = (diff) => `WITH changed AS (${INSERT} RETURNING ${image('w')}),
        audit_row AS (INSERT INTO audit_log (${AUDIT})
           SELECT clock_timestamp(), $4, $5, $6, $7, $8, $9, c."id"::text, ${diff}, $10 FROM changed c)
        SELECT 'changed' AS "__outcome", ${output} FROM changed c`;
const values = [
  'bench create',
  3,
  JSON.stringify({ language: 'typescript', tests: true, estimate_hours: 2 }),
  'token',
  '00000000-0000-4000-8000-000000000000',
  'bench',
  'operator',
  'createTask',
  'task',
  'bench-request',
];
const variants = {
  'main: audit diff over the union of key sets': [
    audited(unionDiff),
    [...values, ['configuration', 'tokenHash', 'token', 'password', 'secret']],
  ],
  'round 6: audit diff by jsonb_each': [audited(eachDiff), values],
  'bare INSERT ... RETURNING id (no audit row; the peer)': [`${INSERT} RETURNING id`, values.slice(0, 3)],
};
(async () => {
  const c = new Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  const pid = (await c.query('select pg_backend_pid() p')).rows[0].p;
  const N = Number(process.argv[2] ?? 500);
  const results = {};
  for (let round = 0; round < 3; round++) {
    for (const [v, [name, [text, params]]] of Object.entries(variants).entries()) {
      results[name] ??= {};
      for (const named of [false, true]) {
        const q = named ? { name: `create_${v}`, text, values: params } : { text, values: params };
        for (let i = 0; i < 10; i++) await c.query(q);
        const before = cpu(pid);
        for (let i = 0; i < N; i++) await c.query(q);
        (results[name][named ? 'named prepared' : 'unnamed'] ??= []).push(((cpu(pid) - before) / N).toFixed(2));
      }
    }
  }
  for (const [name, r] of Object.entries(results))
    console.log(`${name}: unnamed ${r.unnamed.join(' / ')} ms, named prepared ${r['named prepared'].join(' / ')} ms`);
  await c.end();
})();
