import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * The agent work protocol (issue 23) through the real HTTP endpoint: claims, leases, the reaper,
 * retries with backoff, dependencies and waiting claims. Leases are short and the reaper fast here.
 */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    QUEUE_REAPER_INTERVAL_MS: '100',
    QUEUE_LEASE_GRACE_SECONDS: '0',
    QUEUE_RETRY_BACKOFF_MIN_SECONDS: '0',
  });
});
afterAll(() => t.close());

const CLAIM = `mutation($input: ClaimTaskInput!) { claimTask(input: $input) { id attempt leaseExpiresAt leaseToken status task { id title status attempts } } }`;
const FINISH = `mutation($input: FinishExecutionInput!) { finishExecution(input: $input) { id status } }`;
const HEARTBEAT = `mutation($input: HeartbeatExecutionInput!) { heartbeatExecution(input: $input) { cancelRequested leaseExpiresAt execution { id progress } } }`;

async function claim(type: string, extra: Record<string, unknown> = {}) {
  const res = await t.gql(CLAIM, { input: { agentType: 'test-agent', filter: { taskTypes: [type] }, ...extra } });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.claimTask;
}

async function insertTasks(type: string, n: number, extra = ''): Promise<string[]> {
  const rows = await t.db.query(
    `INSERT INTO tasks (title, type, priority${extra ? ', max_attempts, retry_backoff_min_seconds, retry_backoff_max_seconds' : ''})
     SELECT 'task ' || i, $1, i % 5${extra ? `, ${extra}` : ''} FROM generate_series(1, $2::int) i RETURNING id`,
    [type, n],
  );
  return rows.map((r: { id: string }) => r.id);
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

describe('claimTask', () => {
  it('50 concurrent agents claim and finish 2,000 ready tasks, each exactly once, in priority order, with no error', async () => {
    const TASKS = 2000;
    const AGENTS = 50;
    const ids = await insertTasks('bulk', TASKS);
    const latencies: number[] = [];
    const errors: unknown[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: AGENTS }, async () => {
        for (;;) {
          const t0 = performance.now();
          const res = await t.gql(CLAIM, { input: { agentType: 'bulk-agent', filter: { taskTypes: ['bulk'] }, leaseSeconds: 60 } });
          latencies.push(performance.now() - t0);
          if (res.body.errors) errors.push(res.body.errors);
          const claimed = res.body.data?.claimTask;
          if (!claimed) return;
          const done = await t.gql(FINISH, { input: { id: claimed.id, leaseToken: claimed.leaseToken, status: 'SUCCEEDED' } });
          if (done.body.errors) errors.push(done.body.errors);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `${AGENTS} agents, ${TASKS} tasks: ${(TASKS / seconds).toFixed(0)} claims/s, claim p95 ${p95(latencies).toFixed(1)} ms (${seconds.toFixed(1)} s)`,
    );
    expect(errors).toEqual([]);
    const [counts] = await t.db.query(
      `SELECT count(*)::int AS executions, count(DISTINCT task_id)::int AS tasks, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded
       FROM task_executions WHERE task_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(counts).toEqual({ executions: TASKS, tasks: TASKS, succeeded: TASKS });
    const [left] = await t.db.query(`SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND status <> 'completed'`, [ids]);
    expect(left.n).toBe(0);
    const [audits] = await t.db.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE operation = 'claimTask' AND entity = 'task' AND entity_id = ANY($1::text[])`,
      [ids],
    );
    expect(audits.n).toBe(TASKS);
    // Claim order under load: a task is claimed only once every higher-priority one is claimed or
    // being claimed, so in claim order no task comes more than AGENTS places after a lower one.
    const order: { priority: number }[] = await t.db.query(
      `SELECT t.priority FROM task_executions e JOIN tasks t ON t.id = e.task_id WHERE e.task_id = ANY($1::uuid[]) ORDER BY e.created_at, e.id`,
      [ids],
    );
    const firstAt = new Map<number, number>();
    const lastAt = new Map<number, number>();
    order.forEach(({ priority }, i) => {
      if (!firstAt.has(priority)) firstAt.set(priority, i);
      lastAt.set(priority, i);
    });
    for (let p = 0; p < 4; p++) expect(lastAt.get(p + 1)!).toBeLessThan(firstAt.get(p)! + AGENTS);
  }, 120_000);

  it('takes the highest priority first, then the oldest; answers null when nothing is ready', async () => {
    const [low] = await insertTasks('order', 1);
    await t.db.query(`UPDATE tasks SET priority = 1 WHERE id = $1`, [low]);
    const [high] = await insertTasks('order', 1);
    await t.db.query(`UPDATE tasks SET priority = 9 WHERE id = $1`, [high]);
    expect((await claim('order')).task.id).toBe(high);
    const second = await claim('order');
    expect(second).toMatchObject({ attempt: 1, status: 'RUNNING', task: { id: low, status: 'IN_PROGRESS', attempts: 1 } });
    expect(second.leaseToken).toEqual(expect.any(String));
    expect(await claim('order')).toBeNull();
    // the token is answered once, stored only as a hash
    const reread = await t.gql(`query($id: UUID!) { execution(id: $id) { leaseToken } }`, { id: second.id });
    expect(reread.body.data.execution.leaseToken).toBeNull();
    const [row] = await t.db.query(`SELECT lease_token_hash FROM task_executions WHERE id = $1`, [second.id]);
    expect(row.lease_token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.lease_token_hash).not.toContain(second.leaseToken);
  });

  it('a claimed execution needs its lease token to finish, append or heartbeat; a wrong one changes nothing', async () => {
    await insertTasks('token', 1);
    const c = await claim('token', { leaseSeconds: 60 });
    const without = await t.gql(FINISH, { input: { id: c.id, status: 'SUCCEEDED' } });
    expect(without.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const wrong = await t.gql(FINISH, { input: { id: c.id, status: 'SUCCEEDED', leaseToken: 'not-it' } });
    expect(wrong.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', detail: 'LEASE_LOST' });
    const append = await t.gql(`mutation($input: AppendExecutionLogInput!) { appendExecutionLog(input: $input) { id } }`, {
      input: { id: c.id, entries: ['x'], leaseToken: 'not-it' },
    });
    expect(append.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', detail: 'LEASE_LOST' });
    const [row] = await t.db.query(
      `SELECT status, log_count, (SELECT count(*)::int FROM execution_log_entries WHERE execution_id = $1) AS entries FROM task_executions WHERE id = $1`,
      [c.id],
    );
    expect(row).toEqual({ status: 'running', log_count: 0, entries: 0 });
    const hb = await t.gql(HEARTBEAT, { input: { id: c.id, leaseToken: c.leaseToken, progress: { step: 2 } } });
    expect(hb.body.errors).toBeUndefined();
    expect(hb.body.data.heartbeatExecution).toMatchObject({ cancelRequested: false, execution: { progress: { step: 2 } } });
    expect(new Date(hb.body.data.heartbeatExecution.leaseExpiresAt).getTime()).toBeGreaterThanOrEqual(new Date(c.leaseExpiresAt).getTime());
    const ok = await t.gql(FINISH, { input: { id: c.id, status: 'SUCCEEDED', leaseToken: c.leaseToken } });
    expect(ok.body.data.finishExecution.status).toBe('SUCCEEDED');
  });

  it('audits a claim and a finish field by field: exactly the fields that changed, before and after', async () => {
    const [id] = await insertTasks('audited', 1);
    const c = await claim('audited');
    const ok = await t.gql(FINISH, { input: { id: c.id, status: 'FAILED', leaseToken: c.leaseToken, errorDetails: { why: 'x' } } });
    expect(ok.body.errors).toBeUndefined();
    const rows: { operation: string; entity: string; changes: Record<string, { before: unknown; after: unknown }> }[] = await t.db.query(
      `SELECT operation, entity, changes FROM audit_log WHERE entity_id = ANY($1::text[]) ORDER BY operation, entity`,
      [[id, c.id]],
    );
    const keys = rows.map((r) => [r.operation, r.entity, Object.keys(r.changes).sort()]);
    expect(keys).toEqual([
      ['claimTask', 'task', ['attempts', 'status', 'updatedAt', 'version']],
      [
        'claimTask',
        'task_execution',
        [
          'agentConfig',
          'agentType',
          'attempt',
          'createdAt',
          'heartbeatAt',
          'id',
          'leaseExpiresAt',
          'leaseTokenHash',
          'logCount',
          'startedAt',
          'status',
          'taskId',
        ],
      ],
      ['finishExecution', 'task', ['lastError', 'runAfter', 'status', 'updatedAt', 'version']],
      ['finishExecution', 'task_execution', ['completedAt', 'errorDetails', 'status']],
    ]);
    expect(rows[0].changes.status).toEqual({ before: 'pending', after: 'in_progress' });
    expect(rows[1].changes.leaseTokenHash).toEqual({ before: null, after: '[secret]' });
    expect(rows[2].changes.lastError).toEqual({ before: null, after: { why: 'x' } });
    expect(rows[3].changes.status).toEqual({ before: 'running', after: 'failed' });
  });
});

describe('leases', () => {
  it('an agent that stops heartbeating loses its task to attempt 2; its late finish is LEASE_LOST', async () => {
    const [id] = await insertTasks('lease', 1);
    const first = await claim('lease', { leaseSeconds: 1 });
    const claimedAt = Date.now();
    expect(first.attempt).toBe(1);
    const deadline = Date.now() + 5_000;
    let second = null;
    while (!second && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      second = await claim('lease', { leaseSeconds: 60 });
    }
    expect(second).toMatchObject({ attempt: 2, task: { id } });
    // claimable again within lease (1 s) + reaper interval (0.1 s), grace 0 and no backoff here, plus the polling's slack
    expect(Date.now() - claimedAt).toBeLessThan(1_000 + 100 + 500);
    const late = await t.gql(FINISH, { input: { id: first.id, status: 'SUCCEEDED', leaseToken: first.leaseToken } });
    expect(late.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', detail: 'LEASE_LOST' });
    const lateBeat = await t.gql(HEARTBEAT, { input: { id: first.id, leaseToken: first.leaseToken } });
    expect(lateBeat.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', detail: 'LEASE_LOST' });
    const done = await t.gql(FINISH, { input: { id: second.id, status: 'SUCCEEDED', leaseToken: second.leaseToken } });
    expect(done.body.errors).toBeUndefined();
    const rows = await t.db.query(`SELECT attempt, status, error_details FROM task_executions WHERE task_id = $1 ORDER BY attempt`, [id]);
    expect(rows).toEqual([
      { attempt: 1, status: 'failed', error_details: expect.objectContaining({ reason: 'LEASE_EXPIRED' }) },
      { attempt: 2, status: 'succeeded', error_details: null },
    ]);
    const [task] = await t.db.query(`SELECT status, attempts FROM tasks WHERE id = $1`, [id]);
    expect(task).toEqual({ status: 'completed', attempts: 2 });
    const [audit] = await t.db.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE operation = 'reapExpiredLease' AND entity = 'task_execution' AND entity_id = $1`,
      [first.id],
    );
    expect(audit.n).toBe(1);
  });

  it('maxAttempts 3 with an agent that always fails: 3 executions, growing backoff, task FAILED', async () => {
    const [id] = await insertTasks('flaky', 1, '3, 1, 60');
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      let c = null;
      const deadline = Date.now() + 10_000;
      while (!c && Date.now() < deadline) {
        c = await claim('flaky');
        if (!c) await new Promise((r) => setTimeout(r, 50));
      }
      expect(c).toMatchObject({ attempt });
      const res = await t.gql(FINISH, { input: { id: c.id, status: 'FAILED', leaseToken: c.leaseToken, errorDetails: { n: attempt } } });
      expect(res.body.errors).toBeUndefined();
      const [task] = await t.db.query(
        `SELECT t.status, t.last_error, extract(epoch FROM t.run_after - e.completed_at)::float AS gap
         FROM tasks t JOIN task_executions e ON e.id = $2 WHERE t.id = $1`,
        [id, c.id],
      );
      expect(task.last_error).toEqual({ n: attempt });
      if (attempt < 3) {
        expect(task.status).toBe('pending');
        gaps.push(task.gap);
      } else expect(task.status).toBe('failed');
    }
    expect(gaps[0]).toBeGreaterThanOrEqual(0.5);
    expect(gaps[1]).toBeGreaterThanOrEqual(gaps[0]);
    const [n] = await t.db.query(`SELECT count(*)::int AS n FROM task_executions WHERE task_id = $1 AND status = 'failed'`, [id]);
    expect(n.n).toBe(3);
  });
});

describe('two reapers', () => {
  it('two instances reaping the same expired leases handle each once (audit rows counted)', async () => {
    const other = await startTestGateway(
      { QUEUE_REAPER_INTERVAL_MS: '100', QUEUE_LEASE_GRACE_SECONDS: '0', QUEUE_RETRY_BACKOFF_MIN_SECONDS: '0' },
      { database: t.db },
    );
    try {
      const ids = await insertTasks('reaped', 30);
      const claimed = await Promise.all(ids.map(() => claim('reaped', { leaseSeconds: 1 })));
      const executions = claimed.map((c) => c.id);
      const deadline = Date.now() + 8_000;
      let left = executions.length;
      while (left > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        [{ n: left }] = await t.db.query(
          `SELECT count(*)::int AS n FROM task_executions WHERE id = ANY($1::uuid[]) AND status = 'running'`,
          [executions],
        );
      }
      expect(left).toBe(0);
      const audits = await t.db.query(
        `SELECT entity_id, count(*)::int AS n FROM audit_log WHERE operation = 'reapExpiredLease' AND entity = 'task_execution'
         AND entity_id = ANY($1::text[]) GROUP BY 1`,
        [executions],
      );
      expect(audits).toHaveLength(30);
      expect(audits.every((a: { n: number }) => a.n === 1)).toBe(true);
      const [tasks] = await t.db.query(
        `SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND status = 'pending' AND attempts = 1`,
        [ids],
      );
      expect(tasks.n).toBe(30);
    } finally {
      await other.close();
    }
  });
});

describe('waiting claims', () => {
  it('waitSeconds on an empty queue answers within 1 s of a task being created through another instance', async () => {
    const other = await startTestGateway({}, { database: t.db });
    try {
      const waiting = claim('wake', { waitSeconds: 10 });
      await new Promise((r) => setTimeout(r, 500));
      const created = Date.now();
      const res = await other.gql(`mutation { createTask(input: { title: "wake up", type: "wake" }) { id } }`);
      expect(res.body.errors).toBeUndefined();
      const claimed = await waiting;
      expect(Date.now() - created).toBeLessThan(1_000);
      expect(claimed.task.id).toBe(res.body.data.createTask.id);
    } finally {
      await other.close();
    }
  });
});

describe('dependencies', () => {
  const create = async (title: string, extra: Record<string, unknown> = {}) => {
    const res = await t.gql(
      `mutation($input: CreateTaskInput!) { createTask(input: $input) { id maxAttempts timeoutSeconds attempts lastError } }`,
      {
        input: { title, type: 'pipeline', ...extra },
      },
    );
    expect(res.body.errors).toBeUndefined();
    return res.body.data.createTask;
  };
  const depend = (taskId: string, dependsOn: string[]) =>
    t.gql(
      `mutation($input: AddTaskDependenciesInput!) {
         addTaskDependencies(input: $input) { id dependsOn { totalCount nodes { id } } blockedBy { nodes { id } } } }`,
      { input: { taskId, dependsOn } },
    );

  it('A -> B -> C: each is claimed only after the one before completes; a cycle is refused, naming it', async () => {
    // C is the oldest and highest priority: only the dependencies hold it back
    const c = await create('C', { priority: 9 });
    const b = await create('B', { priority: 5, maxAttempts: 2, timeoutSeconds: 30 });
    const a = await create('A');
    expect(b).toMatchObject({ maxAttempts: 2, timeoutSeconds: 30, attempts: 0, lastError: null });
    expect((await depend(b.id, [a.id])).body.errors).toBeUndefined();
    const added = await depend(c.id, [b.id]);
    expect(added.body.data.addTaskDependencies).toEqual({
      id: c.id,
      dependsOn: { totalCount: 1, nodes: [{ id: b.id }] },
      blockedBy: { nodes: [{ id: b.id }] },
    });

    const cycle = await depend(a.id, [c.id]);
    expect(cycle.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(cycle.body.errors?.[0]?.message).toContain(`${a.id} -> ${c.id} -> ${b.id} -> ${a.id}`);
    const [n] = await t.db.query(`SELECT count(*)::int AS n FROM task_dependencies WHERE task_id = $1`, [a.id]);
    expect(n.n).toBe(0);

    for (const expected of [a, b, c]) {
      const claimed = await claim('pipeline');
      expect(claimed.task.id).toBe(expected.id);
      expect(await claim('pipeline')).toBeNull();
      const done = await t.gql(FINISH, { input: { id: claimed.id, status: 'SUCCEEDED', leaseToken: claimed.leaseToken } });
      expect(done.body.errors).toBeUndefined();
    }
    const read = await t.gql(`query($id: UUID!) { task(id: $id) { status dependents { nodes { id } } blockedBy { totalCount } } }`, {
      id: b.id,
    });
    expect(read.body.data.task).toEqual({ status: 'COMPLETED', dependents: { nodes: [{ id: c.id }] }, blockedBy: { totalCount: 0 } });
  });

  it('dependsOn, dependents and blockedBy are connections (paged, counted), read with the task in one statement', async () => {
    const deps = { type: 'connections' };
    const deploy = await create('deploy', deps);
    const [test, review, lint] = [await create('test', deps), await create('review', deps), await create('lint', deps)];
    expect((await depend(deploy.id, [test.id, review.id, lint.id])).body.errors).toBeUndefined();
    await t.db.query(`UPDATE tasks SET status = 'completed' WHERE id = $1`, [review.id]);
    const q = `query($id: UUID!, $after: String) { task(id: $id) {
        dependsOn(first: 2, after: $after, orderBy: [{ field: CREATED_AT, direction: ASC }]) {
          totalCount pageInfo { hasNextPage endCursor } nodes { id dependents { totalCount nodes { id } } } }
        blockedBy(orderBy: [{ field: CREATED_AT, direction: ASC }]) { totalCount nodes { id status } }
        pendingOnly: dependsOn(filter: { status: [PENDING] }) { totalCount } } }`;
    const first = await t.gql(q, { id: deploy.id });
    expect(first.body.errors).toBeUndefined();
    expect(first.headers.get('x-sql-statements')).toBe('1');
    const page = first.body.data.task;
    expect(page.dependsOn).toMatchObject({
      totalCount: 3,
      pageInfo: { hasNextPage: true },
      nodes: [
        { id: test.id, dependents: { totalCount: 1, nodes: [{ id: deploy.id }] } },
        { id: review.id, dependents: { totalCount: 1, nodes: [{ id: deploy.id }] } },
      ],
    });
    expect(page.blockedBy).toEqual({
      totalCount: 2,
      nodes: [
        { id: test.id, status: 'PENDING' },
        { id: lint.id, status: 'PENDING' },
      ],
    });
    expect(page.pendingOnly).toEqual({ totalCount: 2 });
    const next = await t.gql(q, { id: deploy.id, after: page.dependsOn.pageInfo.endCursor });
    expect(next.body.data.task.dependsOn).toMatchObject({ pageInfo: { hasNextPage: false }, nodes: [{ id: lint.id }] });
    // the same through the loaders (a task the planner did not read: a mutation's answer), in one statement per connection
    const viaLoaders = await depend(deploy.id, [lint.id]);
    expect(viaLoaders.body.data.addTaskDependencies).toMatchObject({ dependsOn: { totalCount: 3 }, blockedBy: { nodes: [{}, {}] } });
  });

  it('a dependency that fails for good leaves its dependents PENDING and unclaimable; blockedBy shows it FAILED', async () => {
    const build = await create('build', { type: 'fails', maxAttempts: 1 });
    const ship = await create('ship', { type: 'fails', priority: 9 });
    expect((await depend(ship.id, [build.id])).body.errors).toBeUndefined();
    const c = await claim('fails');
    expect(c.task.id).toBe(build.id);
    const failed = await t.gql(FINISH, { input: { id: c.id, status: 'FAILED', leaseToken: c.leaseToken, errorDetails: { exit: 1 } } });
    expect(failed.body.errors).toBeUndefined();
    expect(await claim('fails')).toBeNull();
    const read = await t.gql(`query($id: UUID!) { task(id: $id) { status blockedBy { nodes { id status lastError } } } }`, { id: ship.id });
    expect(read.body.data.task).toEqual({
      status: 'PENDING',
      blockedBy: { nodes: [{ id: build.id, status: 'FAILED', lastError: { exit: 1 } }] },
    });
    // retried (back to PENDING) and completed, the dependent becomes claimable
    await t.gql(`mutation($id: UUID!) { updateTaskStatus(input: { id: $id, status: PENDING }) { status } }`, { id: build.id });
    const again = await claim('fails');
    expect(again.task.id).toBe(build.id);
    await t.gql(FINISH, { input: { id: again.id, status: 'SUCCEEDED', leaseToken: again.leaseToken } });
    expect((await claim('fails')).task.id).toBe(ship.id);
  });

  it('refuses a backoff whose maximum is below its minimum, changing nothing', async () => {
    const res = await t.gql(
      `mutation { createTask(input: { title: "bad", type: "bad-backoff", retryBackoffMinSeconds: 10, retryBackoffMaxSeconds: 5 }) { id } }`,
    );
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const [n] = await t.db.query(`SELECT count(*)::int AS n FROM tasks WHERE type = 'bad-backoff'`);
    expect(n.n).toBe(0);
  });
});

describe('cancelTask', () => {
  it('cancels a pending task at once; asks the agent of a claimed one to stop through its heartbeat', async () => {
    const [pending] = await insertTasks('cancel-pending', 1);
    const res = await t.gql(`mutation($id: UUID!) { cancelTask(id: $id) { status } }`, { id: pending });
    expect(res.body.data.cancelTask.status).toBe('CANCELLED');
    expect(await claim('cancel-pending')).toBeNull();

    await insertTasks('cancel-running', 1);
    const c = await claim('cancel-running', { leaseSeconds: 60 });
    const before = await t.gql(HEARTBEAT, { input: { id: c.id, leaseToken: c.leaseToken } });
    expect(before.body.data.heartbeatExecution.cancelRequested).toBe(false);
    const asked = await t.gql(`mutation($id: UUID!) { cancelTask(id: $id) { status } }`, { id: c.task.id });
    expect(asked.body.data.cancelTask.status).toBe('IN_PROGRESS');
    const after = await t.gql(HEARTBEAT, { input: { id: c.id, leaseToken: c.leaseToken } });
    expect(after.body.data.heartbeatExecution.cancelRequested).toBe(true);
    const done = await t.gql(FINISH, { input: { id: c.id, status: 'CANCELLED', leaseToken: c.leaseToken } });
    expect(done.body.errors).toBeUndefined();
    const [task] = await t.db.query(`SELECT status FROM tasks WHERE id = $1`, [c.task.id]);
    expect(task.status).toBe('cancelled');
    const missing = await t.gql(`mutation { cancelTask(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
  it('a cancel-requested run whose lease ends is CANCELLED, and so is its task, without a retry; heartbeats no longer extend it', async () => {
    const [id] = await insertTasks('cancel-expired', 1, '3, 0, 0');
    const c = await claim('cancel-expired', { leaseSeconds: 1 });
    const asked = await t.gql(`mutation($id: UUID!) { cancelTask(id: $id) { status } }`, { id });
    expect(asked.body.data.cancelTask.status).toBe('IN_PROGRESS');
    const beat = await t.gql(HEARTBEAT, { input: { id: c.id, leaseToken: c.leaseToken } });
    expect(beat.body.data.heartbeatExecution).toMatchObject({ cancelRequested: true, leaseExpiresAt: c.leaseExpiresAt });
    const deadline = Date.now() + 5_000;
    let row = { status: 'running' };
    while (row.status === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      [row] = await t.db.query(`SELECT status, error_details FROM task_executions WHERE id = $1`, [c.id]);
    }
    expect(row).toEqual({
      status: 'cancelled',
      error_details: expect.objectContaining({ reason: 'LEASE_EXPIRED', cancelRequestedAt: expect.any(String) }),
    });
    const [task] = await t.db.query(`SELECT status, attempts, run_after, completed_at FROM tasks WHERE id = $1`, [id]);
    expect(task).toMatchObject({ status: 'cancelled', attempts: 1, run_after: null, completed_at: expect.any(Date) });
    expect(await claim('cancel-expired')).toBeNull();
    const late = await t.gql(FINISH, { input: { id: c.id, status: 'SUCCEEDED', leaseToken: c.leaseToken } });
    expect(late.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', detail: 'LEASE_LOST' });
    const audits = await t.db.query(
      `SELECT entity, count(*)::int AS n FROM audit_log WHERE operation = 'reapExpiredLease' AND entity_id = ANY($1::text[]) GROUP BY 1 ORDER BY 1`,
      [[id, c.id]],
    );
    expect(audits).toEqual([
      { entity: 'task', n: 1 },
      { entity: 'task_execution', n: 1 },
    ]);
  });

  it('a cancel-requested run the agent finishes FAILED cancels its task instead of retrying it', async () => {
    const [id] = await insertTasks('cancel-failed', 1, '3, 0, 0');
    const c = await claim('cancel-failed', { leaseSeconds: 60 });
    await t.gql(`mutation($id: UUID!) { cancelTask(id: $id) { status } }`, { id });
    const done = await t.gql(FINISH, { input: { id: c.id, status: 'FAILED', leaseToken: c.leaseToken, errorDetails: { stopped: true } } });
    expect(done.body.data.finishExecution.status).toBe('FAILED');
    const [task] = await t.db.query(`SELECT status, attempts, last_error FROM tasks WHERE id = $1`, [id]);
    expect(task).toEqual({ status: 'cancelled', attempts: 1, last_error: { stopped: true } });
    expect(await claim('cancel-failed')).toBeNull();
  });
});

describe('queueStats', () => {
  it('counts ready, blocked, delayed and running tasks per type, in GraphQL and as /metrics gauges', async () => {
    const [a, b, delayed] = await insertTasks('stats', 3);
    await t.db.query(`INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2)`, [b, a]);
    await t.db.query(`UPDATE tasks SET run_after = now() + interval '1 hour' WHERE id = $1`, [delayed]);
    await insertTasks('stats', 1);
    await claim('stats', { leaseSeconds: 60 });
    const res = await t.gql(
      `{ queueStats { byTaskType { taskType ready blocked delayed running } oldestReadyAgeSeconds leasesExpiredLastHour } }`,
    );
    expect(res.body.errors).toBeUndefined();
    const stats = res.body.data.queueStats;
    expect(stats.byTaskType.find((r: { taskType: string }) => r.taskType === 'stats')).toEqual({
      taskType: 'stats',
      ready: 1,
      blocked: 1,
      delayed: 1,
      running: 1,
    });
    expect(stats.leasesExpiredLastHour).toBeGreaterThanOrEqual(1); // the lease tests' expiries
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toContain('taskmaster_queue_tasks_blocked{task_type="stats"} 1');
    expect(metrics).toContain('taskmaster_queue_tasks_running{task_type="stats"} 1');
  });
});
