/**
 * runSql and a 100 MB cell: how long the answer takes and how much this process's memory grows,
 * next to the time PostgreSQL itself needs to build the value (the floor). Run on a database the
 * gateway may migrate (it creates `bench_runsql` if missing):
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:runsql
 *
 * It runs the gateway in this process (so its memory is this process's RSS) as a superuser with
 * RUN_SQL_ALLOW_SUPERUSER (development mode); the cell is cut by the same SQL as with the console role.
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { createLogger } from '../src/logger';
import { createApiTokenForBench } from './run-sql-token';

const BYTES = 100_000_000;

async function main(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const admin = new Client({ connectionString: base.toString() });
  await admin.connect();
  if ((await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'bench_runsql'`)).rowCount === 0)
    await admin.query('CREATE DATABASE bench_runsql');
  const floorStart = process.hrtime.bigint();
  await admin.query(`SELECT octet_length(repeat('x', ${BYTES}))`);
  const floorMs = Number(process.hrtime.bigint() - floorStart) / 1e6;
  await admin.end();

  const url = Object.assign(new URL(base.toString()), { pathname: '/bench_runsql' }).toString();
  // A stored 100 MB cell too (the usual case: a value read from a table, not computed in the query).
  const setup = new Client({ connectionString: url });
  await setup.connect();
  await setup.query(`CREATE TABLE IF NOT EXISTS bench_big_cell (v text)`);
  if ((await setup.query(`SELECT 1 FROM bench_big_cell`)).rowCount === 0)
    await setup.query(`INSERT INTO bench_big_cell SELECT repeat('x', ${BYTES})`);
  const storedStart = process.hrtime.bigint();
  await setup.query(`SELECT octet_length(v) FROM bench_big_cell`);
  const storedFloorMs = Number(process.hrtime.bigint() - storedStart) / 1e6;
  await setup.end();
  const config = loadConfig({
    DATABASE_URL: url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    RUN_SQL_ENABLED: 'true',
    RUN_SQL_ALLOW_SUPERUSER: 'true',
    RUN_SQL_TIMEOUT_MS: '60000',
    HEALTH_MONITOR_ENABLED: 'false',
    RATE_LIMIT_PER_MINUTE: '1000000',
  });
  const gateway = await startGateway(config, createLogger(config));
  try {
    const token = await createApiTokenForBench(gateway.dataSource);
    const rows: string[] = [];
    const queries: [string, string, number][] = [
      ['computed', `SELECT repeat('x', ${BYTES}) AS big`, floorMs],
      ['stored', 'SELECT v AS big FROM bench_big_cell', storedFloorMs],
    ];
    for (const [kind, sql, floor] of queries)
      for (let run = 1; run <= 3; run++) {
        global.gc?.();
        const rssBefore = process.memoryUsage().rss;
        let rssMax = rssBefore;
        const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 5);
        const started = process.hrtime.bigint();
        const res = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: 'query($sql: String!) { runSql(sql: $sql) { truncatedBy rows } }', variables: { sql } }),
        });
        const body = (await res.json()) as { data?: { runSql: { truncatedBy: string[]; rows: { big: string }[] } } };
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        clearInterval(sampler);
        const cell = body.data?.runSql.rows[0].big ?? '';
        rows.push(
          `${kind} cell, run ${run}: ${ms.toFixed(0)} ms (PostgreSQL alone ${floor.toFixed(0)} ms), cell ${cell.length} bytes, truncatedBy ${String(body.data?.runSql.truncatedBy)}, RSS growth ${((rssMax - rssBefore) / 1048576).toFixed(1)} MB`,
        );
      }
    console.log(rows.join('\n'));
  } finally {
    await gateway.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
