// The audit trail's diff in PostgreSQL, per row (RESULTS.md, round 10): the form before round 10
// (a JSON image of each row walked with jsonb_each) against the column-by-column form of
// src/audit/audited-statement.ts (diffSql), for a creation (no before-image) and an update (both),
// evaluated over 20,000 task rows in one statement each, so the figure is the expression's own cost
// (wall time of one backend, no commits, no client). Read-only: any database with seeded tasks. Usage:
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_tm node bench/audit-diff-cpu.cjs [rounds]
const { Client } = require('pg');
const cols = require('./task-columns.cjs');
const jsonb = new Set(['requirements', 'acceptance_criteria', 'metadata']);
const image = (a) => `jsonb_build_object(${cols.map(([p, c]) => `'${p}', ${a}."${c}"`).join(', ')})`;
const isNull = (a, c) => (jsonb.has(c) ? `coalesce(${a}."${c}", 'null') = 'null'` : `${a}."${c}" IS NULL`);
const same = (c) => (jsonb.has(c) ? `coalesce(o."${c}", 'null') = coalesce(n."${c}", 'null')` : `o."${c}" IS NOT DISTINCT FROM n."${c}"`);
const forms = {
  'created, jsonb_each (before)': `(SELECT coalesce(jsonb_object_agg(e.key, jsonb_build_object('before', NULL, 'after', e.value)), '{}'::jsonb) FROM jsonb_each(${image('n')}) e WHERE e.value <> 'null'::jsonb)`,
  'created, by column (after)': `(jsonb_build_object(${cols.map(([p, c]) => `'${p}', jsonb_build_object('before', NULL, 'after', n."${c}")`).join(', ')}) - ARRAY[${cols.map(([p, c]) => `CASE WHEN ${isNull('n', c)} THEN '${p}' END`).join(', ')}]::text[])`,
  'updated, jsonb_each (before)': `(SELECT coalesce(jsonb_object_agg(a.key, jsonb_build_object('before', b.value, 'after', a.value)), '{}'::jsonb) FROM jsonb_each(${image('o')}) b JOIN jsonb_each(${image('n')}) a ON a.key = b.key WHERE a.value IS DISTINCT FROM b.value)`,
  'updated, by column (after)': `(jsonb_build_object(${cols.map(([p, c]) => `'${p}', jsonb_build_object('before', o."${c}", 'after', n."${c}")`).join(', ')}) - ARRAY[${cols.map(([p, c]) => `CASE WHEN ${same(c)} THEN '${p}' END`).join(', ')}]::text[])`,
};
const ROWS = 20_000;
// each task against the next one by id: most fields differ, as in a real update's diff
const FROM = `FROM (SELECT *, lead(id) OVER (ORDER BY id) AS next FROM (SELECT * FROM tasks LIMIT ${ROWS}) t) n JOIN tasks o ON o.id = n.next`;
(async () => {
  const c = new Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  const rounds = Number(process.argv[2] ?? 7);
  const base = [];
  const times = Object.fromEntries(Object.keys(forms).map((k) => [k, []]));
  const time = async (sql) => {
    const t = process.hrtime.bigint();
    await c.query(sql);
    return Number(process.hrtime.bigint() - t) / 1e3 / ROWS;
  };
  for (let r = 0; r < rounds; r++) {
    base.push(await time(`SELECT count(n.id) ${FROM}`));
    for (const [name, expr] of Object.entries(forms)) times[name].push(await time(`SELECT count(${expr}) ${FROM}`));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`rows without a diff: ${median(base).toFixed(1)} µs per row (subtracted below); medians of ${rounds}`);
  for (const [name, xs] of Object.entries(times)) console.log(`${name}: ${(median(xs) - median(base)).toFixed(1)} µs per row`);
  await c.end();
})();
