import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { systemPrincipal } from '../src/auth/principal';
import { Role } from '../src/auth/roles';
import { TokenService } from '../src/tokens/token.service';
import { loadConfig } from '../src/config';
import { startGateway, type Gateway } from '../src/gateway';
import { captureLogs } from './support/log-capture';
import { connect, subscriptionsActive, type Subscriber } from './support/subscriber';
import { freePort, startPgCluster } from './support/pg-cluster';

/*
 * The database restarts under live subscriptions. This file runs its own embedded PostgreSQL (see
 * support/embedded-pg-process.ts) so that it can stop and start it; the gateway keeps running.
 */

const logs = captureLogs('info');
let dir: string;
let port: number;
let pg: { stop(): Promise<void> } | undefined;
let gateway: Gateway;
let baseUrl: string;
let token: string;
const open: Subscriber[] = [];

const startPg = () => startPgCluster(join(dir, 'data'), port, 'live');

/** Plain SQL, as an agent writing to the database directly would. */
async function sql(text: string, params: unknown[] = []): Promise<any[]> {
  const client = new Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${port}/live` });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function listener(): Promise<{ status: string; reconnects: number }> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ poolHealth { listener { status reconnects } } }' }),
  });
  const body = await res.json();
  return body.data?.poolHealth.listener ?? { status: 'unknown', reconnects: -1 };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-live-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as an unprivileged user that must reach it
  port = await freePort();
  pg = await startPg();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${port}/live`,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    DB_POOL_CONNECTION_TIMEOUT: '1000',
    HEALTH_MONITOR_ENABLED: 'false',
  });
  gateway = await startGateway(config, logs.logger);
  baseUrl = `http://127.0.0.1:${gateway.port}`;
  const tokens = new TokenService(gateway.dataSource);
  const scope = { requestId: 'live-test', logger: logs.logger, principal: systemPrincipal('test-support') };
  token = (await tokens.issue(scope, { name: 'live-admin', role: Role.ADMIN }, 'token:create')).token;
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((s) => s.dispose().catch(() => undefined)));
  await gateway?.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const QUERY = `subscription($after: String) { taskChanged(filter: { search: "restart-" }, after: $after) { cursor taskId task { title } } }`;

it('the change-log connection comes back after a database restart; a subscriber resuming with its last cursor gets every event once, in order', async () => {
  const stays = connect(baseUrl, token);
  const leaves = connect(baseUrl, token);
  open.push(stays, leaves);
  const live = stays.subscribe(QUERY);
  const early = leaves.subscribe(QUERY);
  await subscriptionsActive(baseUrl, 2);

  const ids: string[] = [];
  const insert = async (n: number) => ids.push((await sql(`INSERT INTO tasks (title) VALUES ($1) RETURNING id`, [`restart-${n}`]))[0].id);
  await insert(1);
  await insert(2);
  const [, second] = await early.next(2);
  await leaves.dispose(); // this client drops off; it will resume from its last cursor
  const cursor = second.taskChanged.cursor;
  await insert(3);
  expect((await live.next(3)).map((e) => e.taskChanged.taskId)).toEqual(ids);

  await pg!.stop(); // fast shutdown: PostgreSQL ends every connection, the LISTEN one included
  pg = undefined;
  const until = Date.now() + 10_000;
  while (!logs.entries.some((e) => /change listener lost its connection/.test(e.message)) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50));
  expect(logs.entries.some((e) => e.level === 'warn' && /change listener lost its connection/.test(e.message))).toBe(true);

  // poolHealth says why live updates are not flowing (asked while the token is still cached).
  const down = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ poolHealth { status reasons listener { status } } }' }),
  });
  const health = (await down.json()).data.poolHealth;
  expect(health.listener.status).toBe('RECONNECTING');
  expect(health.reasons).toEqual(
    expect.arrayContaining([expect.stringMatching(/^subscriptions: the change-log connection is reconnecting/)]),
  );

  pg = await startPg();
  // Written at once, before the listener is back: its catch-up read after reconnecting finds them.
  await insert(4);
  await insert(5);
  await sql(`UPDATE tasks SET title = 'restart-5 renamed' WHERE id = $1`, [ids[4]]);

  const events = await live.next(6, 30_000);
  expect(events.map((e) => e.taskChanged.taskId)).toEqual([...ids, ids[4]]);
  expect(events[5].taskChanged.task.title).toBe('restart-5 renamed');
  const state = await listener();
  expect(state).toEqual({ status: 'LISTENING', reconnects: expect.any(Number) });
  expect(state.reconnects).toBeGreaterThanOrEqual(1);

  // The subscriber that dropped off resumes with its last cursor: 3, 4, 5, the rename, then live.
  const back = connect(baseUrl, token);
  open.push(back);
  const resumed = back.subscribe(QUERY, { after: cursor });
  const replayed = await resumed.next(4);
  expect(replayed.map((e) => e.taskChanged.taskId)).toEqual([ids[2], ids[3], ids[4], ids[4]]);
  await insert(6);
  const all = (await resumed.next(5)).map((e) => e.taskChanged);
  expect(all.map((e) => e.taskId)).toEqual([ids[2], ids[3], ids[4], ids[4], ids[5]]);
  expect(new Set(all.map((e) => e.cursor)).size).toBe(5);
  await new Promise((r) => setTimeout(r, 300));
  expect(resumed.events).toHaveLength(5);
  expect(live.events).toHaveLength(7);
}, 90_000);
