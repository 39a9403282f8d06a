import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Role } from '../src/auth/roles';
import { IdempotencyService } from '../src/idempotency/idempotency.service';
import { TaskStatus } from '../src/tasks/task.entity';
import { TASK_TRANSITIONS } from '../src/tasks/task.status';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * Concurrent writers through the real HTTP endpoint: idempotent creates, versioned updates, racing
 * status moves with an unbroken audit chain, and a write whose connection is killed mid-statement.
 * Each race prints its figures (docs/benchmark.md quotes them).
 */
let t: TestGateway;
beforeAll(async () => {
  // 50-100 clients share a pool of 10: on a loaded machine a request may wait long for a connection,
  // and that wait is not what these tests are about.
  t = await startTestGateway({ DB_POOL_CONNECTION_TIMEOUT: '120000' });
});
afterAll(() => t.close());

const CREATE = `mutation($input: CreateTaskInput!) { createTask(input: $input) { id title status version createdAt updatedAt } }`;
const UPDATE = `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id version metadata } }`;
const MOVE = `mutation($input: UpdateTaskStatusInput!) { updateTaskStatus(input: $input) { id status version } }`;
const READ = `query($id: UUID!) { task(id: $id) { id status version metadata } }`;

const rowsTitled = async (title: string) =>
  (await t.db.query(`SELECT count(*)::int AS n FROM tasks WHERE title = $1`, [title]))[0].n as number;
const createTask = async (title: string) => (await t.gql(CREATE, { input: { title } })).body.data.createTask;
const readTask = async (id: string) => (await t.gql(READ, { id })).body.data.task;

/** Another writer: a connection of its own (the test's own one polls pg_stat_activity, which a transaction would freeze). */
async function otherWriter(): Promise<Client> {
  const client = new Client({ connectionString: t.db.url });
  await client.connect();
  return client;
}

/** Waits (no deadline of its own: jest's timeout fails a hang) until a backend of the test database waits on a lock. */
async function untilSomeoneWaitsOnALock(like: string): Promise<number> {
  for (;;) {
    const rows = await t.db.query(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1 AND pid <> pg_backend_pid()`,
      [like],
    );
    if (rows.length > 0) return rows[0].pid;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('idempotency keys', () => {
  it('clean up expired keys (the first keyed write after the interval deletes them)', async () => {
    await t.db.query(
      `INSERT INTO idempotency_keys (principal, idempotency_key, scope, operation, request_hash, response, expires_at)
       VALUES ('token:gone', 'old', 'createTask', 'createTask', 'x', '{}', now() - interval '1 hour')`,
    );
    const res = await t.gql(CREATE, { input: { title: 'triggers the clean-up' } }, { 'idempotency-key': randomUUID() });
    expect(res.body.errors).toBeUndefined();
    for (;;) {
      const left = await t.db.query(`SELECT 1 FROM idempotency_keys WHERE principal = 'token:gone'`);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // and the same DELETE on demand
    await t.db.query(
      `INSERT INTO idempotency_keys (principal, idempotency_key, scope, operation, request_hash, expires_at) VALUES ('token:gone', 'old2', 's', 'o', 'x', now() - interval '1 second')`,
    );
    expect(await new IdempotencyService(t.gateway.dataSource, 24).deleteExpired()).toBe(1);
  });

  it('50 concurrent createTask with one key: exactly 1 row, 50 identical answers; another title: CONFLICT; after the TTL the key is free again', async () => {
    const key = randomUUID();
    const title = `idempotent ${key}`;
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => t.gql(CREATE, { input: { title, priority: 3 } }, { 'idempotency-key': key })),
    );
    const statuses = answers.map((a) => a.status);
    const bodies = new Set(answers.map((a) => JSON.stringify(a.body.data)));
    const rows = await rowsTitled(title);
    console.log(
      `[figures] 50 concurrent createTask, one Idempotency-Key: HTTP ${[...new Set(statuses)].join(',')}, distinct answers ${bodies.size}, rows ${rows}`,
    );
    expect(answers.every((a) => a.body.errors === undefined)).toBe(true);
    expect(bodies.size).toBe(1);
    expect(rows).toBe(1);
    expect(
      await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE operation = 'createTask' AND changes->'title'->>'after' = $1`, [
        title,
      ]),
    ).toEqual([{ n: 1 }]);

    const other = await t.gql(CREATE, { input: { title: 'another title', priority: 3 } }, { 'idempotency-key': key });
    expect(other.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey', idempotencyKey: key });
    expect(other.body.errors?.[0].message).toContain(key);
    expect(await rowsTitled('another title')).toBe(0);

    // past its TTL the key is free again: the same request writes a second row
    await t.db.query(
      `UPDATE idempotency_keys SET created_at = created_at - interval '25 hours', expires_at = expires_at - interval '25 hours' WHERE idempotency_key = $1`,
      [key],
    );
    const again = await t.gql(CREATE, { input: { title, priority: 3 } }, { 'idempotency-key': key });
    expect(again.body.errors).toBeUndefined();
    expect(again.body.data.createTask.id).not.toBe(answers[0].body.data.createTask.id);
    expect(await rowsTitled(title)).toBe(2);
  }, 120_000);

  it('takes the key as an input field too; a key is per principal; a bad or contradicting key is BAD_USER_INPUT', async () => {
    const key = randomUUID();
    const title = `input key ${key}`;
    const first = await t.gql(CREATE, { input: { title, idempotencyKey: key } });
    const second = await t.gql(CREATE, { input: { title, idempotencyKey: key } });
    expect(second.body.data).toEqual(first.body.data);
    expect(await rowsTitled(title)).toBe(1);
    // the header with the same value is the same key
    expect((await t.gql(CREATE, { input: { title } }, { 'idempotency-key': key })).body.data).toEqual(first.body.data);

    const operator = await t.token(Role.OPERATOR);
    const theirs = await t.gql(CREATE, { input: { title, idempotencyKey: key } }, { authorization: `Bearer ${operator.token}` });
    expect(theirs.body.data.createTask.id).not.toBe(first.body.data.createTask.id);
    expect(await rowsTitled(title)).toBe(2);

    const before = await rowsTitled('bad key');
    const contradicting = await t.gql(CREATE, { input: { title: 'bad key', idempotencyKey: 'a' } }, { 'idempotency-key': 'b' });
    expect(contradicting.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    const blank = await t.gql(CREATE, { input: { title: 'bad key', idempotencyKey: 'with space' } });
    expect(blank.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    expect(await rowsTitled('bad key')).toBe(before);
  });

  it('a create answers with the fields it reads; a keyed repeat may read fields the first request did not', async () => {
    const READ = `query($id: UUID!) { task(id: $id) { id title status priority version requirements createdAt updatedAt parent { id } } }`;
    const full = `mutation($input: CreateTaskInput!) { createTask(input: $input) { id title status priority version requirements createdAt updatedAt parent { id } } }`;
    const plain = await t.gql(full, { input: { title: `reads ${randomUUID()}`, priority: 4, requirements: { a: null } } });
    expect(plain.body.errors).toBeUndefined();
    const stored = await t.gql(READ, { id: plain.body.data.createTask.id });
    expect(plain.body.data.createTask).toEqual(stored.body.data.task);

    const key = randomUUID();
    const first = await t.gql(`mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`, {
      input: { title: `keyed reads ${key}`, idempotencyKey: key },
    });
    const again = await t.gql(full, { input: { title: `keyed reads ${key}`, idempotencyKey: key } });
    expect(again.body.errors).toBeUndefined();
    expect(again.body.data.createTask.id).toBe(first.body.data.createTask.id);
    expect(again.body.data.createTask).toEqual((await t.gql(READ, { id: first.body.data.createTask.id })).body.data.task);
    expect(await rowsTitled(`keyed reads ${key}`)).toBe(1);
  });

  it('scopes a header key to each mutation field of an operation (its alias or name)', async () => {
    const key = randomUUID();
    const doc = `mutation { a: createTask(input: { title: "alias a ${key}" }) { id } b: createTask(input: { title: "alias b ${key}" }) { id } }`;
    const first = await t.gql(doc, {}, { 'idempotency-key': key });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.a.id).not.toBe(first.body.data.b.id);
    const again = await t.gql(doc, {}, { 'idempotency-key': key });
    expect(again.body.data).toEqual(first.body.data);
    expect(await rowsTitled(`alias a ${key}`)).toBe(1);
    expect(await rowsTitled(`alias b ${key}`)).toBe(1);
  });

  it('is honoured by every create-like mutation: a repeat writes nothing and answers the same', async () => {
    const parent = await createTask('parent of keyed writes');
    const count = async (sql: string, params: unknown[] = []) => (await t.db.query(sql, params))[0].n as number;
    const twice = async (query: string, variables: Record<string, unknown>) => {
      const headers = { 'idempotency-key': randomUUID() };
      const a = await t.gql(query, variables, headers);
      const b = await t.gql(query, variables, headers);
      expect(a.body.errors).toBeUndefined();
      expect(b.body.errors).toBeUndefined();
      expect(b.body.data).toEqual(a.body.data);
      return a.body.data;
    };
    await twice(`mutation($p: UUID!) { createSubtask(input: { parentId: $p, title: "keyed child" }) { id } }`, { p: parent.id });
    expect(await count(`SELECT count(*)::int AS n FROM tasks WHERE parent_task_id = $1`, [parent.id])).toBe(1);

    const { startExecution } = await twice(
      `mutation($t: UUID!) { startExecution(input: { taskId: $t, agentType: "codegen" }) { id status } }`,
      { t: parent.id },
    );
    expect(await count(`SELECT count(*)::int AS n FROM task_executions WHERE task_id = $1`, [parent.id])).toBe(1);

    await twice(`mutation($e: UUID!) { appendExecutionLog(input: { id: $e, entries: ["once"] }) { id logs } }`, { e: startExecution.id });
    expect(await t.db.query(`SELECT seq, message FROM execution_log_entries WHERE execution_id = $1`, [startExecution.id])).toEqual([
      { seq: 0, message: 'once' },
    ]);

    // finishing: a retry of a finish that committed gets its answer, not "already SUCCEEDED"
    const finish = `mutation($e: UUID!, $s: ExecutionStatus!) { finishExecution(input: { id: $e, status: $s }) { id status completedAt } }`;
    const finished = await twice(finish, { e: startExecution.id, s: 'SUCCEEDED' });
    expect(finished.finishExecution.status).toBe('SUCCEEDED');
    const audited = async () =>
      count(`SELECT count(*)::int AS n FROM audit_log WHERE operation = 'finishExecution' AND entity_id = $1`, [startExecution.id]);
    expect(await audited()).toBe(1);
    // without a key the rule stands: an execution finishes once
    const unkeyed = await t.gql(finish, { e: startExecution.id, s: 'SUCCEEDED' });
    expect(unkeyed.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // the same key with another outcome is the client's bug: CONFLICT naming the key, nothing written
    const key = randomUUID();
    const { startExecution: other } = (
      await t.gql(`mutation($t: UUID!) { startExecution(input: { taskId: $t, agentType: "codegen" }) { id } }`, { t: parent.id })
    ).body.data;
    expect((await t.gql(finish, { e: other.id, s: 'FAILED' }, { 'idempotency-key': key })).body.errors).toBeUndefined();
    const changed = await t.gql(finish, { e: other.id, s: 'CANCELLED' }, { 'idempotency-key': key });
    expect(changed.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(changed.body.errors?.[0]?.message).toMatch(/already used for finishExecution with another input/);
    expect(await t.db.query(`SELECT status FROM task_executions WHERE id = $1`, [other.id])).toEqual([{ status: 'failed' }]);

    await twice(`mutation { recordMetric(input: { category: "ci", name: "keyed.single", value: 1.5 }) { id value } }`, {});
    expect(await count(`SELECT count(*)::int AS n FROM system_metrics WHERE metric_name = 'keyed.single'`)).toBe(1);

    await twice(
      `mutation { recordMetrics(input: [{ category: "ci", name: "keyed.batch", value: 1 }, { category: "ci", name: "keyed.batch", value: 2 }]) { count } }`,
      {},
    );
    expect(await count(`SELECT count(*)::int AS n FROM system_metrics WHERE metric_name = 'keyed.batch'`)).toBe(2);

    await twice(`mutation { createIntegration(input: { type: GITHUB, name: "keyed", configuration: { token: "t" } }) { id version } }`, {});
    expect(await count(`SELECT count(*)::int AS n FROM external_integrations WHERE integration_name = 'keyed'`)).toBe(1);
    // the stored answer holds what the client saw, never the credentials
    expect(await count(`SELECT count(*)::int AS n FROM idempotency_keys WHERE response::text LIKE '%configuration%'`)).toBe(0);
  });
});

describe('optimistic concurrency', () => {
  it('50 concurrent read-then-write updateTask with expectedVersion: 0 lost updates; every loser gets CONFLICT with the current version', async () => {
    const task = await createTask('metadata race');
    // each agent reads the task and adds its own key to metadata, sending the version it read
    const attempt = async (i: number) => {
      const seen = await readTask(task.id);
      const res = await t.gql(UPDATE, {
        input: { id: task.id, metadata: { ...seen.metadata, [`agent${i}`]: i }, expectedVersion: seen.version },
      });
      return { i, seen, errors: res.body.errors };
    };
    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(i)));
    const winners = first.filter((r) => !r.errors).map((r) => `agent${r.i}`);
    const losers = first.filter((r) => r.errors);
    for (const l of losers) {
      expect(l.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'expectedVersion' });
      expect(l.errors?.[0].extensions?.currentVersion).toBeGreaterThan(l.seen.version);
    }
    const afterRound = await readTask(task.id);
    expect(Object.keys(afterRound.metadata).sort()).toEqual(winners.sort()); // every success is in the row, nothing else
    expect(afterRound.version).toBe(1 + winners.length);

    // the losers do what a CONFLICT asks: read again and retry, until every agent's key has landed
    let pending = losers.map((l) => l.i);
    let attempts = first.length;
    while (pending.length > 0) {
      const round = await Promise.all(pending.map((i) => attempt(i)));
      attempts += round.length;
      for (const r of round) if (r.errors) expect(r.errors[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'expectedVersion' });
      pending = round.filter((r) => r.errors).map((r) => r.i);
    }
    const final = await readTask(task.id);
    const keys = Object.keys(final.metadata).length;
    console.log(
      `[figures] 50 concurrent read-then-write updateTask with expectedVersion: first round ${winners.length} applied, ${losers.length} CONFLICT, 0 lost (every success in the row); ` +
        `retrying the CONFLICTs: ${attempts} attempts in all, keys in the final row ${keys}/50, version ${final.version}`,
    );
    expect(keys).toBe(50);
    expect(final.version).toBe(51); // one bump per success, nothing else
    const audit = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE entity_id = $1 AND operation = 'updateTask'`, [task.id]);
    expect(audit[0].n).toBe(50);
  }, 300_000);

  it('without expectedVersion a change still applies atomically, field by field', async () => {
    const task = await createTask('field-level');
    await Promise.all([
      t.gql(UPDATE, { input: { id: task.id, priority: 9 } }),
      t.gql(UPDATE, { input: { id: task.id, assignedTo: 'agent-7' } }),
      t.gql(UPDATE, { input: { id: task.id, description: 'both land' } }),
    ]);
    const [row] = await t.db.query(`SELECT priority, assigned_to, description, version FROM tasks WHERE id = $1`, [task.id]);
    expect(row).toEqual({ priority: 9, assigned_to: 'agent-7', description: 'both land', version: 4 });
  });

  it('a stale expectedVersion on deleteTask, updateTaskStatus and updateIntegration: CONFLICT with the current version, nothing changed', async () => {
    const task = await createTask('versioned delete');
    await t.gql(UPDATE, { input: { id: task.id, priority: 1 } });
    const del = await t.gql(`mutation($id: UUID!) { deleteTask(input: { id: $id, expectedVersion: 1 }) { id } }`, { id: task.id });
    expect(del.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 2, currentStatus: 'PENDING' });
    const move = await t.gql(MOVE, { input: { id: task.id, status: 'IN_PROGRESS', expectedVersion: 1 } });
    expect(move.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 2 });
    expect(await t.db.query(`SELECT status, version FROM tasks WHERE id = $1`, [task.id])).toEqual([{ status: 'pending', version: 2 }]);
    const ok = await t.gql(`mutation($id: UUID!) { deleteTask(input: { id: $id, expectedVersion: 2 }) { id version } }`, { id: task.id });
    expect(ok.body.data.deleteTask).toEqual({ id: task.id, version: 2 });

    const created = await t.gql(`mutation { createIntegration(input: { type: LINEAR, name: "v", configuration: {} }) { id version } }`);
    const id = created.body.data.createIntegration.id;
    const UPD = `mutation($input: UpdateIntegrationInput!) { updateIntegration(input: $input) { name version } }`;
    expect((await t.gql(UPD, { input: { id, name: 'v2', expectedVersion: 1 } })).body.data.updateIntegration).toEqual({
      name: 'v2',
      version: 2,
    });
    const stale = await t.gql(UPD, { input: { id, name: 'v3', expectedVersion: 1 } });
    expect(stale.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 2 });
    expect(await t.db.query(`SELECT integration_name AS name, version FROM external_integrations WHERE id = $1`, [id])).toEqual([
      { name: 'v2', version: 2 },
    ]);
  });
});

describe('racing status moves', () => {
  /** Moves that never reach a final state, so the race can go on: pending ⇄ in_progress, in_progress → failed → pending. */
  const OPEN_MOVES: Partial<Record<TaskStatus, TaskStatus[]>> = {
    [TaskStatus.PENDING]: [TaskStatus.IN_PROGRESS],
    [TaskStatus.IN_PROGRESS]: [TaskStatus.PENDING, TaskStatus.FAILED],
    [TaskStatus.FAILED]: [TaskStatus.PENDING],
  };
  const gqlStatus = (s: TaskStatus) => s.toUpperCase();

  async function auditChain(id: string) {
    const rows = await t.db.query(
      `SELECT operation, changes FROM audit_log WHERE entity = 'task' AND entity_id = $1 ORDER BY occurred_at, id`,
      [id],
    );
    return rows.filter((r) => r.operation !== 'createTask');
  }

  /** 100 clients, each reading the task and then asking for a move legal from what it read. */
  async function race(withVersion: boolean) {
    const task = await createTask(`status race ${withVersion ? 'with' : 'without'} expectedVersion`);
    let wins = 0;
    const refusals: { code: string; currentVersion?: number; currentStatus?: string }[] = [];
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const seen = await readTask(task.id);
        // with a version: a move legal from what it read; without: any open status (some illegal)
        const options = withVersion
          ? (OPEN_MOVES[seen.status.toLowerCase() as TaskStatus] ?? [])
          : [TaskStatus.IN_PROGRESS, TaskStatus.FAILED, TaskStatus.PENDING];
        const to = options[i % options.length];
        const res = await t.gql(MOVE, {
          input: { id: task.id, status: gqlStatus(to), ...(withVersion ? { expectedVersion: seen.version } : {}) },
        });
        if (res.body.errors) refusals.push(res.body.errors[0].extensions as never);
        else wins++;
      }),
    );
    const chain = await auditChain(task.id);
    const [final] = await t.db.query(`SELECT status, version FROM tasks WHERE id = $1`, [task.id]);
    let breaks = 0;
    for (let i = 1; i < chain.length; i++) {
      if (chain[i].changes.status.before !== chain[i - 1].changes.status.after) breaks++;
      if (chain[i].changes.version.before !== chain[i - 1].changes.version.after) breaks++;
    }
    const codes = refusals.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.code]: (acc[r.code] ?? 0) + 1 }), {});
    const states = new Set(chain.map((e) => e.changes.status.before));
    console.log(
      `[figures] 100 concurrent updateTaskStatus ${withVersion ? 'with' : 'without'} expectedVersion: ${wins} succeeded (${chain.length} changed the row), refused ${JSON.stringify(codes)}, ` +
        `audit entries ${chain.length}, moves from ${[...states].join('/')}, chain breaks ${breaks}, final ${final.status} v${final.version}`,
    );
    expect(chain.length).toBeLessThanOrEqual(wins); // a move to the current status succeeds and changes nothing
    expect(breaks).toBe(0);
    expect(chain[0].changes.status.before).toBe('pending');
    expect(chain[0].changes.version.before).toBe(1);
    for (const entry of chain) expect(TASK_TRANSITIONS[entry.changes.status.before as TaskStatus]).toContain(entry.changes.status.after);
    expect(chain[chain.length - 1].changes.status.after).toBe(final.status);
    expect(chain[chain.length - 1].changes.version.after).toBe(final.version);
    return { wins, refusals, final, applied: chain.length };
  }

  it('100 concurrent updateTaskStatus on one task from mixed states, with expectedVersion: the audit entries form an unbroken chain matching the final state; every loser gets CONFLICT with the current state', async () => {
    const { wins, refusals, applied } = await race(true);
    expect(applied).toBe(wins); // every move asked was a real move from what the client read
    expect(wins).toBeGreaterThan(0);
    expect(wins + refusals.length).toBe(100);
    for (const r of refusals) {
      expect(r).toMatchObject({ code: 'CONFLICT' });
      expect(r.currentVersion).toBeGreaterThan(1);
      expect(r.currentStatus).toMatch(/^(PENDING|IN_PROGRESS|FAILED)$/);
    }
  }, 120_000);

  it('the same race without expectedVersion: still an unbroken chain; refusals are CONFLICT (lost while waiting for the row) or BAD_USER_INPUT (illegal from the state the row already had)', async () => {
    const { refusals } = await race(false);
    for (const r of refusals) expect(['CONFLICT', 'BAD_USER_INPUT']).toContain(r.code);
    for (const r of refusals.filter((x) => x.code === 'CONFLICT')) expect(r.currentStatus).toMatch(/^[A-Z_]+$/);
  }, 120_000);

  it('a move that lost a race while waiting for the row is CONFLICT with the current state; one illegal from the state found is BAD_USER_INPUT', async () => {
    const task = await createTask('lost race');
    // another writer holds the row and cancels the task while our move waits for it
    const other = await otherWriter();
    await other.query('BEGIN');
    await other.query(`UPDATE tasks SET status = 'cancelled', completed_at = now(), version = version + 1 WHERE id = $1`, [task.id]);
    const racing = t.gql(MOVE, { input: { id: task.id, status: 'IN_PROGRESS' } });
    await untilSomeoneWaitsOnALock('%FOR UPDATE%');
    await other.query('COMMIT');
    await other.end();
    const lost = await racing;
    expect(lost.body.errors?.[0].extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'status',
      currentStatus: 'CANCELLED',
      currentVersion: 2,
    });
    expect(lost.body.errors?.[0].message).toMatch(/moved from PENDING to CANCELLED meanwhile/);

    // the task is cancelled now, and the client can know it: moving it is illegal whatever the race
    const illegal = await t.gql(MOVE, { input: { id: task.id, status: 'IN_PROGRESS' } });
    expect(illegal.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status', allowed: [] });
    const withVersion = await t.gql(MOVE, { input: { id: task.id, status: 'PENDING', expectedVersion: 2 } });
    expect(withVersion.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status' });
    expect(await t.db.query(`SELECT status, version FROM tasks WHERE id = $1`, [task.id])).toEqual([{ status: 'cancelled', version: 2 }]);
  });
});

describe('task tree', () => {
  it('two re-parentings racing (A under B, B under A) cannot close a cycle: one applies, the other is BAD_USER_INPUT', async () => {
    const PARENT = `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id parentTaskId } }`;
    const [a, b] = [await createTask('tree A'), await createTask('tree B')];
    // Another writer holds both rows, so both changes are in flight at once, each having found the other a root.
    const other = await otherWriter();
    await other.query('BEGIN');
    await other.query(`SELECT 1 FROM tasks WHERE id IN ($1, $2) FOR UPDATE`, [a.id, b.id]);
    const racing = [t.gql(PARENT, { input: { id: a.id, parentTaskId: b.id } }), t.gql(PARENT, { input: { id: b.id, parentTaskId: a.id } })];
    for (;;) {
      const waiting = await t.db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      );
      if (waiting[0].n >= 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await other.query('COMMIT');
    await other.end();
    const answers = await Promise.all(racing);
    const applied = answers.filter((r) => r.body.data?.updateTask);
    const refused = answers.filter((r) => r.body.errors);
    expect([applied.length, refused.length]).toEqual([1, 1]);
    expect(refused[0].body.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'parentTaskId' },
      message: expect.stringMatching(/own ancestor/),
    });
    const links = await t.db.query(`SELECT count(*)::int AS n FROM tasks WHERE id IN ($1, $2) AND parent_task_id IS NOT NULL`, [
      a.id,
      b.id,
    ]);
    expect(links[0].n).toBe(1);
  });
});

describe('outcome unknown', () => {
  it('a write whose connection is killed mid-statement answers OUTCOME_UNKNOWN (HTTP 503, Retry-After); a retry with the same key gives one row', async () => {
    const key = randomUUID();
    const title = `killed ${key}`;
    // hold a lock that the INSERT must wait for, so the statement is in flight when its backend dies
    const locker = await otherWriter();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE tasks IN SHARE MODE');
      const pending = t.gql(CREATE, { input: { title } }, { 'idempotency-key': key });
      const pid = await untilSomeoneWaitsOnALock('%INSERT INTO tasks%');
      await t.db.query('SELECT pg_terminate_backend($1)', [pid]);
      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
      expect(res.body.errors?.[0].message).toMatch(/same idempotency key/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    const retry = await t.gql(CREATE, { input: { title } }, { 'idempotency-key': key });
    expect(retry.body.errors).toBeUndefined();
    const again = await t.gql(CREATE, { input: { title } }, { 'idempotency-key': key });
    expect(again.body.data).toEqual(retry.body.data);
    expect(await rowsTitled(title)).toBe(1);
  });

  it('an update killed mid-statement is OUTCOME_UNKNOWN too (re-read, then retry with expectedVersion)', async () => {
    const task = await createTask('killed update');
    const locker = await otherWriter();
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE`, [task.id]);
    const pending = t.gql(MOVE, { input: { id: task.id, status: 'IN_PROGRESS' } });
    const pid = await untilSomeoneWaitsOnALock('%FOR UPDATE%');
    await t.db.query('SELECT pg_terminate_backend($1)', [pid]);
    const res = await pending;
    await locker.query('ROLLBACK');
    await locker.end();
    expect(res.status).toBe(503);
    expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    // the gateway carries on with a fresh connection
    const retried = await t.gql(MOVE, { input: { id: task.id, status: 'IN_PROGRESS', expectedVersion: 1 } });
    expect(retried.body.errors?.[0]).toBeUndefined();
    expect(retried.body.data.updateTaskStatus).toMatchObject({ status: 'IN_PROGRESS', version: 2 });
  });
});
