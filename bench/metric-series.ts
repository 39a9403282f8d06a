/**
 * metricSeries over 30 days of 10 million samples (issue 25), in a database of its own:
 *   node -r @swc-node/register bench/metric-series.ts [samples] [runs] [rounds]
 * (BENCH_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres: the server to create it on.)
 *
 * 1. Seeds `samples` samples (default 10,000,000) evenly over the 30 days before today (UTC), 20
 *    names × 10 hosts, with INSERT … SELECT generate_series one day per statement, then the rollups
 *    of each day with the rollup trigger's own statement (triggers off meanwhile: seeding is not
 *    what is measured; step 3 measures the trigger).
 * 2. metricSeries(name: "m0", 30 days, bucket: "1h"), `rounds` rounds (default 3), each: the statement
 *    of main's code (always percentile_cont, raw scan) in SQL on an unpartitioned copy of the same
 *    rows (main's table) 5 times, then with and without p50/p95 the gateway over HTTP and our
 *    statement alone in SQL (named, prepared, as the gateway runs it) `runs` times each (default 30)
 *    after 3 warm-ups. Medians of the rounds' medians and p95s, the ratio per round.
 * 3. Insert cost of the rollup trigger: 1,000-row and 5-row INSERTs with it on and off, alternated.
 * 4. Retention under load: 4 writers call recordMetrics (10 samples each) over HTTP without pause
 *    while the retention job drops the oldest day's partition; the drop's time, the writers'
 *    latencies around it and their errors.
 */
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { createLogger } from '../src/logger';
import { seriesStatement } from '../src/metrics/metric.series';
import { RetentionService } from '../src/retention/retention.service';
import { defaultStores } from '../src/retention/retention.store';
import { createApiTokenForBench } from './run-sql-token';

const SAMPLES = Number(process.argv[2] ?? 10_000_000);
const RUNS = Number(process.argv[3] ?? 30);
const ROUNDS = Number(process.argv[4] ?? 3);
const DAYS = 30;
const DAY_MS = 86_400_000;
const admin = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const median = (xs: number[]) => pct(xs, 0.5);
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)];
}
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x: number) => x.toFixed(1);
const loadAverage = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

/** The statement of main's MetricService.series (before issue 25), verbatim but for the table. */
const MAIN_SERIES = (table: string) => `SELECT date_bin($4::interval, m.timestamp, $1::timestamptz) AS start, count(*)::int AS count,
              avg(m.metric_value)::float8 AS avg, min(m.metric_value)::float8 AS min, max(m.metric_value)::float8 AS max,
              sum(m.metric_value)::float8 AS sum,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY m.metric_value::float8) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY m.metric_value::float8) AS p95
       FROM ${table} m WHERE m.metric_name = $3 AND m.timestamp >= $1::timestamptz AND m.timestamp < $2::timestamptz
       GROUP BY 1 ORDER BY 1`;

async function main(): Promise<void> {
  const name = `tm_bench_series_${process.pid}`;
  const root = new Client({ connectionString: admin });
  await root.connect();
  await root.query(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const env = {
    DATABASE_URL: url.toString(),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    HEALTH_MONITOR_ENABLED: 'false',
    RETENTION_ENABLED: 'false',
    RATE_LIMIT_PER_MINUTE: '1000000000',
  };
  const config = loadConfig(env);
  const gateway = await startGateway(config, createLogger(config));
  const db = new Client({ connectionString: url.toString() });
  await db.connect();
  try {
    const token = await createApiTokenForBench(gateway.dataSource);
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    };
    const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
    const d0 = new Date(today.getTime() - DAYS * DAY_MS);
    const day = (d: Date) => d.toISOString().slice(0, 10);

    // 1. Seed.
    const perDay = Math.ceil(SAMPLES / DAYS);
    const step = DAY_MS / 1000 / perDay;
    await db.query(
      `SELECT metrics_ensure_partitions(t, $1::date, $2::date) FROM unnest(ARRAY['system_metrics', 'system_metric_rollups_1m', 'system_metric_rollups_1h']) t`,
      [day(d0), day(today)],
    );
    // Raw rows first, then the rollups of each day by the rollup trigger's own statement over that
    // day's rows (10 M rows through the trigger would take many minutes on a small machine).
    await db.query(`ALTER TABLE system_metrics DISABLE TRIGGER change_log_system_metrics`);
    await db.query(`ALTER TABLE system_metrics DISABLE TRIGGER system_metrics_rollup`);
    const [{ body }] = (await db.query<{ body: string }>(`SELECT prosrc AS body FROM pg_proc WHERE proname = 'system_metrics_rollup'`))
      .rows;
    const rollup = /BEGIN\s+([\s\S]*?);\s+RETURN NULL;/.exec(body)![1];
    let t0 = process.hrtime.bigint();
    for (let d = 0; d < DAYS; d++) {
      await db.query(
        `INSERT INTO system_metrics (metric_category, metric_name, metric_value, metric_unit, dimensions, timestamp)
         SELECT 'gateway', 'm' || (i % 20), (((i + $4::bigint) * 7919) % 100000) / 100.0 + 0.5, 'ms', jsonb_build_object('host', 'h' || ((i / 20) % 10)),
                $1::timestamptz + i * $2::float8 * interval '1 second'
         FROM generate_series(0::bigint, $3::int - 1) AS i`,
        // Values run on across days (i + the day's offset), so no two hours hold the same samples
        // (else the planner's Memoize answers the percentiles of repeated histograms from a cache).
        [new Date(d0.getTime() + d * DAY_MS).toISOString(), step, perDay, d * perDay],
      );
    }
    const rawMs = ms(t0);
    t0 = process.hrtime.bigint();
    for (let d = 0; d < DAYS; d++) {
      const lo = new Date(d0.getTime() + d * DAY_MS).toISOString();
      const hi = new Date(d0.getTime() + (d + 1) * DAY_MS).toISOString();
      await db.query(
        rollup.replace(
          'FROM new_rows',
          `FROM (SELECT * FROM system_metrics WHERE timestamp >= '${lo}' AND timestamp < '${hi}') AS new_rows`,
        ),
      );
    }
    const rollupMs = ms(t0);
    await db.query(`ALTER TABLE system_metrics ENABLE TRIGGER system_metrics_rollup`);
    await db.query(`ALTER TABLE system_metrics ENABLE TRIGGER change_log_system_metrics`);
    await db.query(`ANALYZE system_metrics; ANALYZE system_metric_rollups_1h; ANALYZE system_metric_rollups_1m`);
    t0 = process.hrtime.bigint();
    await db.query(`CREATE TABLE bench_main_metrics AS SELECT * FROM system_metrics`);
    await db.query(`CREATE INDEX ON bench_main_metrics (metric_name, timestamp); ANALYZE bench_main_metrics`);
    const copyMs = ms(t0);
    const [{ n: total }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM system_metrics`)).rows;
    const [sizes] = (
      await db.query<
        Record<'raw' | 'r1m' | 'r1h' | 'rows1m' | 'rows1h', string>
      >(`SELECT (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('system_metrics'))::bigint AS raw,
              (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('system_metric_rollups_1m'))::bigint AS r1m,
              (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('system_metric_rollups_1h'))::bigint AS r1h,
              (SELECT count(*) FROM system_metric_rollups_1h)::int AS rows1h, (SELECT count(*) FROM system_metric_rollups_1m)::int AS rows1m`)
    ).rows;
    console.log(
      `seeded ${total} samples over ${DAYS} days: raw ${fmt(rawMs / 1000)} s, rollups ${fmt(rollupMs / 1000)} s; main's unpartitioned copy ${fmt(copyMs / 1000)} s`,
    );
    console.log(
      `sizes: system_metrics ${(Number(sizes.raw) / 2 ** 20).toFixed(0)} MB (${(Number(sizes.raw) / total).toFixed(0)} B/row incl. indexes), rollups 1m ${(Number(sizes.r1m) / 2 ** 20).toFixed(0)} MB (${sizes.rows1m} rows), 1h ${(Number(sizes.r1h) / 2 ** 20).toFixed(1)} MB (${sizes.rows1h} rows)`,
    );

    // 2. Series: ROUNDS rounds (3), each main's statement 5 times, then per selection the gateway
    // over HTTP and our statement alone in SQL (a named prepared statement, as the gateway runs
    // it), RUNS times each after 3 warm-ups. Medians of the rounds' medians and p95s.
    const from = d0.toISOString();
    const to = today.toISOString();
    const shapes = {
      'count avg min max sum': 'start count avg min max sum',
      'all (p50 p95 too)': 'start count avg min max sum p50 p95',
    };
    type Round = { main: number; shapes: Record<string, { http: number[]; sql: number[] }> };
    const rounds: Round[] = [];
    let mainRows = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const before: number[] = [];
      for (let i = 0; i < 6; i++) {
        const s = process.hrtime.bigint();
        const res = await db.query(MAIN_SERIES('bench_main_metrics'), [from, to, 'm0', '3600 seconds']);
        if (i > 0) before.push(ms(s));
        mainRows = res.rowCount ?? 0;
      }
      const round: Round = { main: median(before), shapes: {} };
      for (const [label, fields] of Object.entries(shapes)) {
        const q = `query($from: DateTime!, $to: DateTime!) { metricSeries(name: "m0", from: $from, to: $to, bucket: "1h") { ${fields} } }`;
        const http: number[] = [];
        for (let i = 0; i < RUNS + 3; i++) {
          const s = process.hrtime.bigint();
          const res = await gql(q, { from, to });
          if (res.errors || (res.data?.metricSeries as unknown[]).length !== DAYS * 24) throw new Error(JSON.stringify(res).slice(0, 500));
          if (i >= 3) http.push(ms(s));
        }
        const statement = seriesStatement({ name: 'm0', from: d0, to: today, bucket: '1h' }, 3600, new Set(fields.split(' ')));
        const sql: number[] = [];
        for (let i = 0; i < RUNS + 3; i++) {
          const s = process.hrtime.bigint();
          await db.query({ name: `series_${fields.length}`, text: statement.sql, values: statement.params });
          if (i >= 3) sql.push(ms(s));
        }
        round.shapes[label] = { http, sql };
      }
      rounds.push(round);
      console.log(
        `round ${r + 1}: main ${fmt(round.main)} ms; ${Object.entries(round.shapes)
          .map(
            ([l, x]) =>
              `${l}: HTTP ${fmt(median(x.http))} / p95 ${fmt(pct(x.http, 0.95))}, SQL ${fmt(median(x.sql))} / p95 ${fmt(pct(x.sql, 0.95))}`,
          )
          .join('; ')}; load average ${loadAverage()}`,
      );
    }
    const mainMs = median(rounds.map((r) => r.main));
    console.log(
      `\nmetricSeries, m0 (${total / 20} samples), 30 days, 1h buckets (720), ${ROUNDS} rounds of ${RUNS} runs; main's statement in SQL (5 runs a round, ${mainRows} buckets): median ${fmt(mainMs)} ms`,
    );
    for (const label of Object.keys(shapes)) {
      const of = (f: (x: { http: number[]; sql: number[] }) => number) => median(rounds.map((r) => f(r.shapes[label])));
      const http = of((x) => median(x.http));
      console.log(
        `  ${label}: gateway over HTTP median ${fmt(http)} ms, p95 ${fmt(of((x) => pct(x.http, 0.95)))} ms; our statement alone (prepared) median ${fmt(of((x) => median(x.sql)))} ms, p95 ${fmt(of((x) => pct(x.sql, 0.95)))} ms; main / ours over HTTP ${fmt(median(rounds.map((r) => r.main / median(r.shapes[label].http))))}x (medians: ${fmt(mainMs / http)}x)`,
      );
    }

    // 3. Insert cost of the rollups.
    const batch = (n: number) =>
      db.query(
        `INSERT INTO system_metrics (metric_category, metric_name, metric_value, dimensions, timestamp)
         SELECT 'gateway', 'ins' || (i % 5), i % 977, jsonb_build_object('host', 'h' || (i % 3)), now() - (i % 60) * interval '1 second'
         FROM generate_series(1, $1::int) AS i`,
        [n],
      );
    for (const n of [1000, 5]) {
      const on: number[] = [];
      const off: number[] = [];
      const reps = n === 1000 ? 20 : 200;
      for (let i = 0; i < reps; i++) {
        for (const enabled of [true, false]) {
          await db.query(`ALTER TABLE system_metrics ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER system_metrics_rollup`);
          const s = process.hrtime.bigint();
          await batch(n);
          (enabled ? on : off).push(ms(s));
        }
      }
      await db.query(`ALTER TABLE system_metrics ENABLE TRIGGER system_metrics_rollup`);
      console.log(
        `\nINSERT of ${n} rows (change-log trigger on), ${reps} each: with rollups median ${median(on).toFixed(2)} ms, without ${median(off).toFixed(2)} ms (${fmt(median(on) / median(off))}x)`,
      );
    }

    // 4. Partition drop past retention while writers insert.
    const retention = new RetentionService(
      gateway.dataSource,
      loadConfig({ ...env, RETENTION_ENABLED: 'true', METRICS_RETENTION_DAYS: String(DAYS - 1) }).retention,
      createLogger(config),
      defaultStores(loadConfig({ ...env, METRICS_RETENTION_DAYS: String(DAYS - 1) }).retention),
    );
    let stop = false;
    let errors = 0;
    const latencies: { at: number; ms: number }[] = [];
    const started = Date.now();
    const RECORD = `mutation($input: [MetricInput!]!) { recordMetrics(input: $input) { count } }`;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      while (!stop) {
        const s = process.hrtime.bigint();
        const at = Date.now() - started;
        const res = await gql(RECORD, {
          input: Array.from({ length: 10 }, (_x, j) => ({ category: 'bench', name: `w${w}`, value: j, dimensions: { host: `h${j % 3}` } })),
        }).catch(() => ({ errors: ['fetch failed'] }));
        if (res.errors) errors++;
        latencies.push({ at, ms: ms(s) });
      }
    });
    await new Promise((r) => setTimeout(r, 3_000));
    const dropAt = Date.now() - started;
    const s = process.hrtime.bigint();
    const run = await retention.runOnce();
    const dropMs = ms(s);
    await new Promise((r) => setTimeout(r, 3_000));
    stop = true;
    await Promise.all(writers);
    const [{ left }] = (
      await db.query<{ left: number }>(`SELECT count(*)::int AS left FROM system_metrics WHERE timestamp < $1`, [
        new Date(d0.getTime() + DAY_MS),
      ])
    ).rows;
    const around = latencies.filter((l) => l.at >= dropAt - 200 && l.at <= dropAt + dropMs + 200).map((l) => l.ms);
    console.log(
      `\nretention under load: ${run.purged.system_metrics}; run took ${fmt(dropMs)} ms (partitions created ${run.created}); day-0 rows left ${left}`,
    );
    console.log(
      `  4 writers x recordMetrics(10): ${latencies.length} calls in ${fmt((Date.now() - started) / 1000)} s, ${errors} errors; latency median ${fmt(median(latencies.map((l) => l.ms)))} ms, p99 ${fmt(
        pct(
          latencies.map((l) => l.ms),
          0.99,
        ),
      )} ms, max ${fmt(Math.max(...latencies.map((l) => l.ms)))} ms; during the drop (${around.length} calls) max ${fmt(Math.max(...around))} ms`,
    );
  } finally {
    await db.end();
    await gateway.stop();
    await root.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await root.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
