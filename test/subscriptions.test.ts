import { Role } from '../src/auth/roles';
import { startTestGateway, type TestGateway } from './support/gateway';
import WebSocket from 'ws';
import { connect, subscriptionsActive, type Subscriber } from './support/subscriber';

/*
 * GraphQL subscriptions over graphql-ws, fed by the PostgreSQL change log: two gateway instances
 * on one database, real WebSocket clients (graphql-ws's createClient with ws).
 */
let a: TestGateway; // caps lowered, to test them
let b: TestGateway;
const open: Subscriber[] = [];
const sub = (t: TestGateway, token: string | null = t.adminToken, headers?: Record<string, string>) => {
  const s = connect(t.baseUrl, token, { headers });
  open.push(s);
  return s;
};

beforeAll(async () => {
  a = await startTestGateway({ SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN: '3', SUBSCRIPTION_MAX_PER_SOCKET: '2', AUTH_TOKEN_CACHE_SECONDS: '2' });
  b = await startTestGateway({ SUBSCRIPTION_ALLOWED_ORIGINS: 'https://dashboard.example' }, { database: a.db });
}, 60_000);
afterAll(async () => {
  await Promise.all(open.map((s) => s.dispose().catch(() => undefined)));
  await b?.close();
  await a?.close();
});

const TASK_CHANGED = `subscription($filter: TaskFilter, $after: String) {
  taskChanged(filter: $filter, after: $after) { cursor operation taskId task { id title status } }
}`;

async function createTask(t: TestGateway, title: string): Promise<string> {
  const res = await t.gql(`mutation($title: String!) { createTask(input: { title: $title }) { id } }`, { title });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.createTask.id;
}

it('a mutation through instance A reaches a subscriber on instance B; so does a row changed by plain SQL', async () => {
  const s = sub(b).subscribe(TASK_CHANGED);
  await subscriptionsActive(b.baseUrl, 1);
  const id = await createTask(a, 'via A');
  await a.gql(`mutation($id: UUID!) { updateTaskStatus(input: { id: $id, status: IN_PROGRESS }) { id } }`, { id });
  await b.db.query(`UPDATE tasks SET title = 'by SQL' WHERE id = $1`, [id]);
  const [sqlRow] = await b.db.query(`INSERT INTO tasks (title) VALUES ('inserted by SQL') RETURNING id`);
  const events = (await s.next(4)).map((e) => e.taskChanged);
  expect(events.map((e) => [e.operation, e.taskId])).toEqual([
    ['CREATED', id],
    ['UPDATED', id],
    ['UPDATED', id],
    ['CREATED', sqlRow.id],
  ]);
  expect(events[0].task).toEqual({ id, title: expect.any(String), status: expect.any(String) });
  expect(events[3].task).toEqual({ id: sqlRow.id, title: 'inserted by SQL', status: 'PENDING' });
  // Cursors are opaque and increasing.
  expect(new Set(events.map((e) => e.cursor)).size).toBe(4);
  s.stop();
});

it('evaluates the tasks filter on the changed row (as it is when the event is delivered)', async () => {
  const s = sub(b).subscribe(TASK_CHANGED, { filter: { status: ['IN_PROGRESS'], search: 'filtered' } });
  await subscriptionsActive(b.baseUrl, 1);
  const other = await createTask(a, 'filtered but pending'); // never matches
  const [{ id }] = await b.db.query(`INSERT INTO tasks (title, status) VALUES ('filtered and started', 'in_progress') RETURNING id`);
  const [first] = await s.next(1);
  expect(first.taskChanged).toMatchObject({ operation: 'CREATED', taskId: id, task: { status: 'IN_PROGRESS' } });
  await a.gql(`mutation($id: UUID!) { updateTask(input: { id: $id, priority: 3 }) { id } }`, { id: other });
  await a.gql(`mutation($id: UUID!) { updateTaskStatus(input: { id: $id, status: COMPLETED }) { id } }`, { id }); // leaves the filter
  const [{ id: third }] = await b.db.query(`INSERT INTO tasks (title, status) VALUES ('filtered, third', 'in_progress') RETURNING id`);
  // Events arrive in order: once the third task's is in, the two changes before it were judged.
  const events = await s.next(2);
  expect(events.map((e) => [e.taskChanged.operation, e.taskChanged.taskId])).toEqual([
    ['CREATED', id],
    ['CREATED', third],
  ]);
  await new Promise((r) => setTimeout(r, 200));
  expect(s.events).toHaveLength(2);
  s.stop();
});

it('executionLogAppended under 50 concurrent appendExecutionLog calls delivers 50 entries, once each, in order', async () => {
  const taskId = await createTask(a, 'with logs');
  const started = await a.gql(`mutation($taskId: UUID!) { startExecution(input: { taskId: $taskId, agentType: "claude" }) { id } }`, {
    taskId,
  });
  const executionId = started.body.data.startExecution.id;
  const s = sub(b).subscribe(`subscription($id: UUID!) { executionLogAppended(executionId: $id) { cursor executionId index entry } }`, {
    id: executionId,
  });
  const changes = sub(b).subscribe(
    `subscription($taskId: UUID!) { executionChanged(taskId: $taskId) { operation executionId execution { status } } }`,
    { taskId },
  );
  await subscriptionsActive(b.baseUrl, 2);
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      (i % 2 ? a : b).gql(`mutation($id: UUID!, $e: [JSON!]!) { appendExecutionLog(input: { id: $id, entries: $e }) { id } }`, {
        id: executionId,
        e: [{ n: i }],
      }),
    ),
  );
  expect(results.every((r) => !r.body.errors)).toBe(true);
  const entries = (await s.next(50)).map((e) => e.executionLogAppended);
  expect(entries.map((e) => e.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(new Set(entries.map((e) => e.entry.n)).size).toBe(50);
  const rows = await a.db.query(`SELECT seq, data FROM execution_log_entries WHERE execution_id = $1 ORDER BY seq`, [executionId]);
  expect(entries.map((e) => [e.index, e.entry])).toEqual(rows.map((r) => [r.seq, r.data]));
  // The appends were not execution changes; finishing is.
  await a.gql(`mutation($id: UUID!) { finishExecution(input: { id: $id, status: SUCCEEDED }) { id } }`, { id: executionId });
  const [finished] = await changes.next(1);
  expect(finished.executionChanged).toEqual({ operation: 'UPDATED', executionId, execution: { status: 'SUCCEEDED' } });
  await new Promise((r) => setTimeout(r, 200));
  expect(s.events).toHaveLength(50);
  expect(changes.events).toHaveLength(1);
  s.stop();
  changes.stop();
});

it('resumes after a cursor: replays what was missed, then goes live, without gap or duplicate', async () => {
  const first = sub(b).subscribe(TASK_CHANGED, { filter: { search: 'resume-' } });
  await subscriptionsActive(b.baseUrl, 1);
  await createTask(a, 'resume-1');
  const [e1] = await first.next(1);
  first.stop();
  const missed = [await createTask(a, 'resume-2'), await createTask(b, 'resume-3')];
  const resumed = sub(b).subscribe(TASK_CHANGED, { filter: { search: 'resume-' }, after: e1.taskChanged.cursor });
  const replayed = await resumed.next(2);
  expect(replayed.map((e) => e.taskChanged.taskId)).toEqual(missed);
  const live = await createTask(a, 'resume-4');
  const all = await resumed.next(3);
  expect(all.map((e) => e.taskChanged.taskId)).toEqual([...missed, live]);
  resumed.stop();
});

it('metricRecorded delivers samples of one name whose dimensions match', async () => {
  const s = sub(b).subscribe(
    `subscription { metricRecorded(name: "ci.build_seconds", dimensions: { repo: "gw" }) { cursor metric { name value dimensions } } }`,
  );
  await subscriptionsActive(b.baseUrl, 1);
  const record = (name: string, value: number, repo: string) =>
    a.gql(`mutation($i: MetricInput!) { recordMetric(input: $i) { id } }`, { i: { category: 'ci', name, value, dimensions: { repo } } });
  await record('ci.build_seconds', 1, 'other');
  await record('ci.other', 2, 'gw');
  await record('ci.build_seconds', 3, 'gw');
  const [event] = await s.next(1);
  expect(event.metricRecorded.metric).toEqual({ name: 'ci.build_seconds', value: 3, dimensions: { repo: 'gw' } });
  s.stop();
});

it('refuses a cursor older than the replay window, not a cursor, or a bad filter, with a clear error', async () => {
  const [{ max }] = await a.db.query(`SELECT max(seq)::text AS max FROM change_log`);
  const old = Buffer.from(`chg:${Number(max) - 1}`).toString('base64url');
  await a.db.query(`UPDATE change_log_state SET purged_through = $1 WHERE id = 1`, [max]);
  try {
    const expired = sub(b).subscribe(TASK_CHANGED, { after: old });
    await expired.ended;
    expect(expired.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after', reason: 'CURSOR_EXPIRED' });
    expect(expired.errors[0].message).toMatch(/refetch/);
  } finally {
    await a.db.query(`UPDATE change_log_state SET purged_through = 0 WHERE id = 1`);
  }
  const bad = sub(b).subscribe(TASK_CHANGED, { after: 'not-a-cursor' });
  await bad.ended;
  expect(bad.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  // Digits only: Number() also took these ("1e5" would skip every event up to seq 100000).
  for (const forged of ['chg:1e5', 'chg:0x10', 'chg:']) {
    const socket = sub(b);
    const refused = socket.subscribe(TASK_CHANGED, { after: Buffer.from(forged).toString('base64url') });
    await refused.ended;
    expect(refused.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    await socket.dispose();
  }
  // The filter's rules hold as they do for `tasks`.
  const long = sub(b).subscribe(TASK_CHANGED, { filter: { search: 'x'.repeat(201) } });
  await long.ended;
  expect(long.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'search' })] });
  const wide = sub(b).subscribe(TASK_CHANGED, { filter: { or: Array.from({ length: 60 }, () => ({ isRoot: true })) } });
  await wide.ended;
  expect(wide.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' });
  // The input caps too, when it subscribes: these were accepted, then failed in SQL at the first event.
  const nul = sub(b).subscribe(TASK_CHANGED, { filter: { search: 'a\u0000' } });
  await nul.ended;
  expect(nul.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.search', reason: 'nul' });
  const surrogate = sub(b).subscribe(TASK_CHANGED, { filter: { metadataContains: { a: '\ud800' } } });
  await surrogate.ended;
  expect(surrogate.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.metadataContains' });
  const dims = sub(b).subscribe(`subscription($d: JSONObject) { metricRecorded(name: "m", dimensions: $d) { cursor } }`, {
    d: { 'k\u0000': 1 },
  });
  await dims.ended;
  expect(dims.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'dimensions' });
});

it('uses the same tokens, roles and document limits as HTTP', async () => {
  // No token: the socket is closed with 4401.
  const anonymous = sub(b, null);
  anonymous.subscribe(TASK_CHANGED);
  expect((await anonymous.closed).code).toBe(4401);
  // A viewer may subscribe to what it may query, not to the admins' change feed.
  const viewer = sub(b, (await b.token(Role.VIEWER)).token);
  const allowed = viewer.subscribe(TASK_CHANGED);
  const refused = viewer.subscribe(`subscription { changeFeed { cursor table rowId } }`);
  await refused.ended;
  expect(refused.errors[0].extensions.code).toBe('FORBIDDEN');
  await subscriptionsActive(b.baseUrl, 1);
  const id = await createTask(a, 'seen by a viewer');
  expect((await allowed.next(1))[0].taskChanged.taskId).toBe(id);
  allowed.stop();
  // Depth limit and cost, as for queries; queries and mutations go over HTTP.
  const deep = sub(b).subscribe(
    `subscription { taskChanged { task { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } }`,
  );
  await deep.ended;
  expect(deep.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  const query = sub(b).subscribe(`{ tasks(first: 1) { nodes { id } } }`);
  await query.ended;
  expect(query.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(/POST \/graphql/) });
});

it('answers the caps with documented errors and close codes', async () => {
  const { token } = await a.token(Role.VIEWER, { name: 'capped' });
  const sockets = [sub(a, token), sub(a, token), sub(a, token)];
  const runs = [sockets[0].subscribe(TASK_CHANGED), sockets[0].subscribe(TASK_CHANGED)];
  const third = sockets[0].subscribe(TASK_CHANGED);
  await third.ended;
  expect(third.errors[0].extensions).toMatchObject({ code: 'SUBSCRIPTION_LIMIT_EXCEEDED', limit: 2 });
  await subscriptionsActive(a.baseUrl, 2);
  sockets[1].subscribe(TASK_CHANGED);
  sockets[2].subscribe(TASK_CHANGED);
  await subscriptionsActive(a.baseUrl, 4);
  const fourth = sub(a, token);
  fourth.subscribe(TASK_CHANGED);
  expect(await fourth.closed).toEqual({ code: 4029, reason: expect.stringMatching(/SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN=3/) });
  runs.forEach((r) => r.stop());
});

it('closes the sockets of a revoked token (4401)', async () => {
  const { token, id } = await a.token(Role.OPERATOR, { name: 'to-revoke' });
  const s = sub(a, token);
  s.subscribe(TASK_CHANGED);
  await subscriptionsActive(a.baseUrl, 1);
  const revoked = await a.gql(`mutation($id: UUID!) { revokeApiToken(input: { id: $id }) { id } }`, { id });
  expect(revoked.body.errors).toBeUndefined();
  const closed = await s.closed;
  expect(closed.code).toBe(4401);
  expect(closed.reason).toMatch(/revoked/);
});

/** The HTTP status a WebSocket upgrade gets with these headers (101 when it is accepted). */
function upgradeStatus(baseUrl: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('error', (error) => (String(error.message).includes('Unexpected server response') ? undefined : reject(error)));
  });
}

it("refuses the DNS rebinding shape: Origin and Host both the attacker's name", async () => {
  const port = new URL(b.baseUrl).port;
  expect(
    await upgradeStatus(b.baseUrl, { origin: `http://rebind.attacker.example:${port}`, host: `rebind.attacker.example:${port}` }),
  ).toBe(403);
  expect(await upgradeStatus(b.baseUrl, { origin: `https://rebind.attacker.example`, host: `rebind.attacker.example` })).toBe(403);
  // a page served on this machine (the IDE) and a configured origin, whatever the Host
  expect(await upgradeStatus(b.baseUrl, { origin: `http://localhost:${port}`, host: `localhost:${port}` })).toBe(101);
  expect(await upgradeStatus(b.baseUrl, { origin: 'https://dashboard.example', host: 'rebind.attacker.example' })).toBe(101);
});

it('logs a frame over the size limit as one line, without a stack, and closes the socket with 1009', async () => {
  const c = await startTestGateway({ GRAPHQL_BODY_LIMIT_BYTES: '1024', LOG_LEVEL: 'warn' }, { database: a.db });
  const consoleError = jest.spyOn(console, 'error');
  try {
    const ws = new WebSocket(`${c.baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(2_000) } }));
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    expect(code).toBe(1009);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(consoleError).not.toHaveBeenCalled();
    const lines = c.logs
      .join('')
      .split('\n')
      .filter((l) => /size limit|WebSocket/.test(l));
    expect(lines).toEqual([expect.stringMatching(/WebSocket frame over the size limit/)]);
    expect(c.logs.join('')).not.toMatch(/\n\s+at /); // no stack frames
  } finally {
    consoleError.mockRestore();
    await c.close();
  }
});

it('checks the Origin of browser clients: its own and configured origins only', async () => {
  expect(await upgradeStatus(b.baseUrl, { origin: 'https://evil.example' })).toBe(403);
  expect(await upgradeStatus(b.baseUrl, { origin: 'https://dashboard.example' })).toBe(101);
  expect(await upgradeStatus(b.baseUrl, { origin: b.baseUrl })).toBe(101);
  expect(await upgradeStatus(b.baseUrl, {})).toBe(101); // not a browser
  expect(await upgradeStatus(a.baseUrl, { origin: 'https://dashboard.example' })).toBe(403); // configured on B only
  const fine = sub(b, b.adminToken, { origin: 'https://dashboard.example' });
  const s = fine.subscribe(TASK_CHANGED);
  await subscriptionsActive(b.baseUrl, 1);
  const id = await createTask(a, 'origin ok');
  expect((await s.next(1))[0].taskChanged.taskId).toBe(id);
  s.stop();
});

it('accepts the dashboards of CORS_ALLOWED_ORIGINS on the WebSocket too (one allow-list for a dashboard)', async () => {
  const c = await startTestGateway({ CORS_ALLOWED_ORIGINS: 'https://cors-dashboard.example' }, { database: a.db });
  try {
    expect(await upgradeStatus(c.baseUrl, { origin: 'https://cors-dashboard.example' })).toBe(101);
    expect(await upgradeStatus(c.baseUrl, { origin: 'https://other.example' })).toBe(403);
  } finally {
    await c.close();
  }
});

it('absorbs a burst bigger than the queue cap by catching up from the change log: every event once, in order, socket kept', async () => {
  const c = await startTestGateway({ SUBSCRIPTION_MAX_QUEUED_EVENTS: '10' }, { database: a.db });
  try {
    const s = connect(c.baseUrl, c.adminToken);
    open.push(s);
    const r = s.subscribe(`subscription { taskChanged(filter: { search: "burst-" }) { cursor taskId task { title } } }`);
    await subscriptionsActive(c.baseUrl, 1);
    const rows = await c.db.query(
      `INSERT INTO tasks (title) SELECT 'burst-' || lpad(i::text, 4, '0') FROM generate_series(1, 300) i RETURNING id`,
    );
    const events = await r.next(300, 30_000);
    expect(events.map((e) => e.taskChanged.taskId)).toEqual(rows.map((row: any) => row.id));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.events).toHaveLength(300);
    expect(r.errors).toEqual([]);
    expect(c.logs.some((l) => l.includes('slow consumer closed'))).toBe(false);
    r.stop();
  } finally {
    await c.close();
  }
}, 60_000);

it('closes a consumer that stops reading (4008: its send buffer passed the cap) instead of queueing without bound', async () => {
  const c = await startTestGateway(
    { SUBSCRIPTION_MAX_QUEUED_EVENTS: '10', SUBSCRIPTION_MAX_BUFFERED_BYTES: '1024', LOG_LEVEL: 'warn' },
    { database: a.db },
  );
  try {
    const ws = new WebSocket(`${c.baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: any[] = [];
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${c.adminToken}` } }));
    await new Promise<void>((resolve) => ws.on('message', () => messages.some((m) => m.type === 'connection_ack') && resolve()));
    const taskId = await createTask(c, 'with a flood of logs');
    const started = await c.gql(`mutation($taskId: UUID!) { startExecution(input: { taskId: $taskId, agentType: "claude" }) { id } }`, {
      taskId,
    });
    const executionId = started.body.data.startExecution.id;
    ws.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: `subscription { executionLogAppended(executionId: "${executionId}") { index entry } }` },
      }),
    );
    await subscriptionsActive(c.baseUrl, 1);
    ws.pause(); // reads nothing more
    // 200 entries of 50 KB: far more than the socket buffers hold.
    await c.db.query(
      `WITH counted AS (UPDATE task_executions SET log_count = log_count + 200 WHERE id = $1 RETURNING log_count - 200 AS first)
       INSERT INTO execution_log_entries (execution_id, seq, message) SELECT $1, first + n - 1, repeat('x', 50000) FROM counted, generate_series(1, 200) AS n`,
      [executionId],
    );
    const until = Date.now() + 15_000;
    while (!c.logs.some((l) => l.includes('slow consumer closed')) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(c.logs.find((l) => l.includes('slow consumer closed'))).toBeDefined();
    ws.resume();
    const code = await new Promise<number>((resolve) => (ws.readyState === ws.CLOSED ? resolve(-1) : ws.once('close', (c) => resolve(c))));
    expect([4008, 1006]).toContain(code); // 1006 when the close frame was cut after the grace second
    expect(messages.filter((m) => m.type === 'next').length).toBeLessThan(200);
  } finally {
    await c.close();
  }
}, 30_000);

it('shows sockets, subscriptions and the change-log connection in /metrics and poolHealth', async () => {
  const health = await b.gql(`{ poolHealth { listener { status lastSeq reconnects listeningSince lastError } } }`);
  expect(health.body.data.poolHealth.listener).toMatchObject({ status: 'LISTENING', reconnects: 0, lastError: null });
  expect(health.body.data.poolHealth.listener.lastSeq).toBeGreaterThan(0);
  const text = await (await fetch(`${b.baseUrl}/metrics`)).text();
  expect(text).toMatch(/^graphql_ws_sockets \d+/m);
  expect(text).toMatch(/^graphql_subscriptions_active \d+/m);
  expect(text).toMatch(/^graphql_subscription_delivery_seconds_count [1-9]\d*/m);
  expect(text).toMatch(/^graphql_subscription_listener_up 1/m);
});

it('on stop, sends what is in flight, then closes sockets with 1012 (reconnect elsewhere with the cursor)', async () => {
  const c = await startTestGateway({}, { database: a.db });
  const s = connect(c.baseUrl, c.adminToken);
  const r = s.subscribe(TASK_CHANGED);
  await subscriptionsActive(c.baseUrl, 1);
  const id = await createTask(a, 'before the drain');
  await r.next(1);
  await c.close();
  expect((await s.closed).code).toBe(1012);
  expect(r.events.map((e) => e.taskChanged.taskId)).toEqual([id]);
  // The cursor resumes on another instance.
  const later = await createTask(a, 'during the restart');
  const resumed = sub(b).subscribe(TASK_CHANGED, { after: r.events[0].taskChanged.cursor });
  expect((await resumed.next(1))[0].taskChanged.taskId).toBe(later);
  resumed.stop();
}, 30_000);

/** A counter or gauge from a gateway's /metrics. */
async function metric(t: TestGateway, name: string): Promise<number> {
  const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
  if (!match) throw new Error(`${name} is not in /metrics`);
  return Number(match[1]);
}

it('an instance without subscriptions reads nothing; its first subscription starts reading from then on, and a row inserted by plain SQL reaches it', async () => {
  const c = await startTestGateway({ SUBSCRIPTION_POLL_MS: '20' }, { database: a.db });
  try {
    const idle = await metric(c, 'graphql_subscription_log_reads_total');
    expect(await metric(c, 'graphql_subscription_listener_polling')).toBe(0);
    // Changes through this instance and by SQL while no one is subscribed: still no read.
    await createTask(c, 'before anyone subscribed');
    await a.db.query(`INSERT INTO tasks (title) VALUES ('sql, before anyone subscribed')`);
    await new Promise((r) => setTimeout(r, 300)); // 15 poll intervals
    expect(await metric(c, 'graphql_subscription_log_reads_total')).toBe(idle);

    const s = connect(c.baseUrl, c.adminToken);
    open.push(s);
    const r = s.subscribe(TASK_CHANGED);
    await subscriptionsActive(c.baseUrl, 1);
    expect(await metric(c, 'graphql_subscription_listener_polling')).toBe(1);
    // Another connection, plain SQL, nothing through any gateway: the poll finds it.
    const [row] = await a.db.query(`INSERT INTO tasks (title) VALUES ('inserted by SQL while subscribed') RETURNING id`);
    const [event] = await r.next(1);
    expect(event.taskChanged).toMatchObject({ operation: 'CREATED', taskId: row.id, task: { title: 'inserted by SQL while subscribed' } });
    expect(await metric(c, 'graphql_subscription_log_reads_total')).toBeGreaterThan(idle);

    // The last subscription ends: reading stops.
    r.stop();
    const until = Date.now() + 5_000;
    while ((await metric(c, 'graphql_subscriptions_active')) > 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    expect(await metric(c, 'graphql_subscription_listener_polling')).toBe(0);
    const after = await metric(c, 'graphql_subscription_log_reads_total');
    await a.db.query(`INSERT INTO tasks (title) VALUES ('sql, after the last subscription')`);
    await new Promise((res) => setTimeout(res, 300));
    expect(await metric(c, 'graphql_subscription_log_reads_total')).toBe(after);
    expect(r.events).toHaveLength(1);
  } finally {
    await c.close();
  }
}, 30_000);

it('50 concurrent creates through two instances arrive once each, in seq (commit) order', async () => {
  const s = sub(b).subscribe(TASK_CHANGED, { filter: { search: 'concurrent-' } });
  await subscriptionsActive(b.baseUrl, 1);
  const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => createTask(i % 2 ? a : b, `concurrent-${i}`)));
  const events = (await s.next(50)).map((e) => e.taskChanged);
  const inSeqOrder = await a.db.query(
    `SELECT row_id FROM change_log WHERE table_name = 'tasks' AND operation = 'INSERT' AND row_id = ANY($1) ORDER BY seq`,
    [ids],
  );
  expect(events.map((e) => e.taskId)).toEqual(inSeqOrder.map((r) => r.row_id));
  expect(new Set(events.map((e) => e.taskId))).toEqual(new Set(ids));
  const seqs = events.map((e) => Number(Buffer.from(e.cursor, 'base64url').toString().replace('chg:', '')));
  expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  await new Promise((r) => setTimeout(r, 200));
  expect(s.events).toHaveLength(50);
  s.stop();
});

it("a mutation through the subscriber's own instance is read at once, not at the next poll", async () => {
  const c = await startTestGateway({ SUBSCRIPTION_POLL_MS: '10000' }, { database: a.db });
  try {
    const s = connect(c.baseUrl, c.adminToken);
    open.push(s);
    const r = s.subscribe(TASK_CHANGED, { filter: { search: 'own write' } });
    await subscriptionsActive(c.baseUrl, 1);
    const id = await createTask(c, 'own write');
    // The first poll is 10 s after the subscription started: the event comes from the read that
    // follows the mutation's response.
    const [event] = await r.next(1, 5_000);
    expect(event.taskChanged.taskId).toBe(id);
    r.stop();
  } finally {
    await c.close();
  }
}, 30_000);
