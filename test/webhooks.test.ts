import { startTestGateway, type TestGateway } from './support/gateway';
import { verifies, WebhookReceiver } from './support/webhook-receiver';

/**
 * Webhooks through the real endpoint on a real PostgreSQL, to real HTTP receivers on 127.0.0.1
 * (hence WEBHOOK_ALLOW_PRIVATE_URLS=true here, and a gateway without it for the SSRF rules), with a
 * short retry schedule: 200 ms, 1 s, 5 s (WEBHOOK_RETRY_BASE_MS=200, 3 retries).
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_RETRY_BASE_MS: '200',
  WEBHOOK_RETRY_ATTEMPTS: '3',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_CONNECT_TIMEOUT_MS: '1000',
};

let t: TestGateway;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  t = await startTestGateway(ENV);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await t.close();
});

const CREATE = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url events status lastSeq } } }`;

async function receiver(): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().start();
  receivers.push(r);
  return r;
}

/** A webhook to this receiver (which learns its secret), through the API. */
async function createWebhook(r: WebhookReceiver, input: Record<string, unknown>, gateway = t): Promise<string> {
  const res = await gateway.gql(CREATE, { input: { url: r.url, ...input } });
  expect(res.body.errors).toBeUndefined();
  const { secret, webhook } = res.body.data.createWebhook;
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  r.secrets = [secret];
  return webhook.id;
}

async function createTask(title: string, extra: Record<string, unknown> = {}, gateway = t): Promise<string> {
  const res = await gateway.gql(`mutation ($input: CreateTaskInput!) { createTask(input: $input) { id } }`, { input: { title, ...extra } });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.createTask.id;
}

/** Stops the endpoint receiving more (other tests' changes) once a test has what it wanted. */
async function deleteWebhook(id: string): Promise<void> {
  const res = await t.gql(`mutation ($id: UUID!) { deleteWebhook(input: { id: $id }) { id } }`, { id });
  expect(res.body.errors).toBeUndefined();
}

describe('webhooks', () => {
  it('delivers 500 changes from 10 concurrent writers once each, in sequence order, every signature verified', async () => {
    const r = await receiver();
    const id = await createWebhook(r, { events: ['task.created'], description: 'bulk' });
    const created = new Set<string>();
    await Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        for (let i = 0; i < 50; i++) created.add(await createTask(`w${w}-${i}`, { type: 'bulk' }));
      }),
    );
    await r.waitFor(() => r.accepted().length >= 500, 60_000, '500 deliveries');
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more should come
    const got = r.accepted();
    expect(got).toHaveLength(500);
    expect(new Set(got.map((g) => g.id)).size).toBe(500);
    expect(got.every((g) => g.verified)).toBe(true);
    const seqs = got.map((g) => g.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(got.map((g) => g.payload.data.id))).toEqual(created);
    // the row as the API shows it: camelCase, enums in UPPER_SNAKE, no secrets
    const first = got[0].payload;
    expect(first.type).toBe('task.created');
    expect(first.data).toMatchObject({ status: 'PENDING', type: 'bulk', title: expect.any(String), createdAt: expect.any(String) });
    expect(Object.keys(first.data).some((k) => k.includes('_'))).toBe(false);
    const [row] = await t.db.query(`SELECT last_seq::float8 AS last FROM webhooks WHERE id = $1`, [id]);
    expect(row.last).toBe(seqs[seqs.length - 1]);
    await deleteWebhook(id);
  }, 120_000);

  it('retries a failing receiver with the same webhook-id, holding later events back, and logs the attempts', async () => {
    const r = await receiver();
    const failUntil = Date.now() + 3_000;
    r.answer = () => (Date.now() < failUntil ? 500 : 200);
    const id = await createWebhook(r, { events: ['task.created'], filter: { type: 'retry' } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createTask(`retry-${i}`, { type: 'retry' }));
    await createTask('filtered out', { type: 'other' });
    await r.waitFor(() => r.accepted().length >= 5, 20_000, '5 deliveries after the failures');
    const accepted = r.accepted();
    expect(accepted.map((a) => a.payload.data.id)).toEqual(ids);
    // before the first success only the first event was tried, again and again under one id
    const failed = r.received.filter((x) => x.answered === 500);
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(new Set(failed.map((f) => f.id))).toEqual(new Set([accepted[0].id]));
    expect(failed.every((f) => f.verified)).toBe(true);
    const log = await t.gql(
      `query ($id: UUID!) { webhookDeliveries(webhookId: $id, first: 10) { nodes { messageId status attempts responseStatus responseBody latencyMs } } }`,
      { id },
    );
    expect(log.body.errors).toBeUndefined();
    const nodes = log.body.data.webhookDeliveries.nodes;
    expect(nodes).toHaveLength(5);
    const head = nodes.find((n: { messageId: string }) => n.messageId === accepted[0].id);
    expect(head).toMatchObject({ status: 'SUCCEEDED', attempts: failed.length + 1, responseStatus: 200, responseBody: 'ok' });
    expect(nodes.filter((n: { attempts: number }) => n.attempts === 1)).toHaveLength(4);
    await deleteWebhook(id);
  }, 60_000);

  it('classifies status changes and execution events, and disables an endpoint that answers 410', async () => {
    const r = await receiver();
    const id = await createWebhook(r, {
      events: ['task.status_changed', 'task.updated', 'execution.created', 'execution.finished'],
      filter: { type: 'cls' },
    });
    const task = await createTask('classify', { type: 'cls' });
    const q = (query: string, input: Record<string, unknown>) => t.gql(query, { input });
    expect(
      (await q(`mutation ($input: UpdateTaskStatusInput!) { updateTaskStatus(input: $input) { id } }`, { id: task, status: 'IN_PROGRESS' }))
        .body.errors,
    ).toBeUndefined();
    expect(
      (await q(`mutation ($input: UpdateTaskInput!) { updateTask(input: $input) { id } }`, { id: task, description: 'changed' })).body
        .errors,
    ).toBeUndefined();
    const started = await q(`mutation ($input: StartExecutionInput!) { startExecution(input: $input) { id } }`, {
      taskId: task,
      agentType: 'claude',
    });
    expect(started.body.errors).toBeUndefined();
    const exec = started.body.data.startExecution.id;
    expect(
      (await q(`mutation ($input: FinishExecutionInput!) { finishExecution(input: $input) { id } }`, { id: exec, status: 'SUCCEEDED' }))
        .body.errors,
    ).toBeUndefined();
    await r.waitFor(() => r.accepted().some((a) => a.payload.type === 'execution.finished'), 10_000, 'execution.finished');
    const types = r.accepted().map((a) => a.payload.type);
    expect(types[0]).toBe('task.status_changed');
    expect(types).toContain('task.updated');
    expect(types).toContain('execution.created');
    const finished = r.accepted().find((a) => a.payload.type === 'execution.finished')!;
    expect(finished.payload.data).toMatchObject({ id: exec, status: 'SUCCEEDED', taskId: task });
    expect(finished.payload.data).not.toHaveProperty('leaseTokenHash');

    r.answer = () => 410;
    await createTask('gone', { type: 'cls' });
    await q(`mutation ($input: UpdateTaskStatusInput!) { updateTaskStatus(input: $input) { id } }`, { id: task, status: 'COMPLETED' });
    await r.waitFor(() => r.received.some((x) => x.answered === 410), 10_000, 'the 410');
    const until = Date.now() + 5_000;
    let status = '';
    while (Date.now() < until && status !== 'disabled') {
      [{ status }] = await t.db.query(`SELECT status FROM webhooks WHERE id = $1`, [id]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [row] = await t.db.query(`SELECT status, disabled_reason FROM webhooks WHERE id = $1`, [id]);
    expect(row).toEqual({ status: 'disabled', disabled_reason: 'gone' });
    await deleteWebhook(id);
  }, 30_000);

  it('gives up after the schedule: the event FAILED, the endpoint disabled (EXHAUSTED), the operator told', async () => {
    const r = await receiver();
    r.answer = () => 503;
    const id = await createWebhook(r, { events: ['task.created'], filter: { type: 'exhaust' } });
    await createTask('never accepted', { type: 'exhaust' });
    // attempts at 0, ~0.2 s, ~1.2 s, ~6.2 s (+-20 %)
    await r.waitFor(() => r.received.length >= 4, 15_000, 'four attempts');
    const until = Date.now() + 5_000;
    let rows: { status: string }[] = [];
    while (Date.now() < until && rows[0]?.status !== 'disabled') {
      rows = await t.db.query(`SELECT status FROM webhooks WHERE id = $1`, [id]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(rows[0].status).toBe('disabled');
    const res = await t.gql(`{ webhookHealth { disabled { reason count } } webhooks(first: 50) { nodes { id status disabledReason } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.webhookHealth.disabled).toContainEqual({ reason: 'EXHAUSTED', count: 1 });
    expect(res.body.data.webhooks.nodes).toContainEqual({ id, status: 'DISABLED', disabledReason: 'EXHAUSTED' });
    const [delivery] = await t.db.query(`SELECT status, attempts, response_status FROM webhook_deliveries WHERE webhook_id = $1`, [id]);
    expect(delivery).toEqual({ status: 'failed', attempts: 4, response_status: 503 });
    expect(t.logs.some((l) => l.includes(`endpoint ${id} disabled (exhausted)`))).toBe(true);
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/taskmaster_webhooks_disabled\{reason="exhausted"\} 1/);
    expect(metrics).toMatch(new RegExp(`taskmaster_webhook_deliveries_total\\{webhook_id="${id}",outcome="exhausted"\\} 1`));
    expect(metrics).toMatch(/taskmaster_webhook_delivery_lag_seconds_count \d+/);

    // redelivered by hand after re-enabling: the same webhook-id, and it goes through
    r.answer = () => 200;
    const [{ id: deliveryId }] = await t.db.query(`SELECT id::text FROM webhook_deliveries WHERE webhook_id = $1`, [id]);
    const enabled = await t.gql(`mutation ($id: UUID!) { updateWebhook(input: { id: $id, enabled: true }) { status disabledReason } }`, {
      id,
    });
    expect(enabled.body.data.updateWebhook).toEqual({ status: 'ACTIVE', disabledReason: null });
    const again = await t.gql(`mutation ($d: UUID!) { redeliverWebhookEvent(input: { deliveryId: $d }) { status attempts } }`, {
      d: deliveryId,
    });
    expect(again.body.data.redeliverWebhookEvent).toEqual({ status: 'PENDING', attempts: 0 });
    await r.waitFor(() => r.accepted().length === 1, 5_000, 'the redelivery');
    expect(r.accepted()[0].id).toBe(r.received[0].id);
    await deleteWebhook(id);
  }, 40_000);

  it('rotates the secret with an overlap: deliveries verify under the old and the new secret', async () => {
    const r = await receiver();
    const id = await createWebhook(r, { events: ['task.created'], filter: { type: 'rotate' } });
    const old = r.secrets[0];
    const res = await t.gql(
      `mutation ($id: UUID!) { rotateWebhookSecret(input: { id: $id, overlapSeconds: 60 }) { secret webhook { previousSecretExpiresAt } } }`,
      {
        id,
      },
    );
    expect(res.body.errors).toBeUndefined();
    const fresh = res.body.data.rotateWebhookSecret.secret;
    expect(fresh).not.toBe(old);
    r.secrets = [old, fresh];
    await createTask('after rotation', { type: 'rotate' });
    await r.waitFor(() => r.accepted().length === 1, 5_000, 'a delivery');
    const [got] = r.accepted();
    expect(got.verified).toBe(true);
    expect(got.signature.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': got.id, 'webhook-timestamp': got.timestamp, 'webhook-signature': got.signature };
    expect(verifies(old, got.body, headers)).toBe(true);
    expect(verifies(fresh, got.body, headers)).toBe(true);
    expect(verifies(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, got.body, headers)).toBe(false);
    // never an output field, never in the audit trail
    const [audit] = await t.db.query(
      `SELECT changes::text FROM audit_log WHERE operation = 'rotateWebhookSecret' ORDER BY occurred_at DESC LIMIT 1`,
    );
    expect(audit.changes).not.toContain(fresh.slice(6, 20));
    expect(audit.changes).toContain('[secret]');
    await deleteWebhook(id);
  }, 20_000);

  it('two instances on one database deliver every event once', async () => {
    const second = await startTestGateway(ENV, { database: t.db });
    try {
      const r = await receiver();
      const id = await createWebhook(r, { events: ['task.created'], filter: { type: 'two' } });
      await Promise.all(
        Array.from({ length: 4 }, async (_, w) => {
          for (let i = 0; i < 50; i++) await createTask(`two-${w}-${i}`, { type: 'two' }, w % 2 ? second : t);
        }),
      );
      await r.waitFor(() => r.accepted().length >= 200, 30_000, '200 deliveries');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(r.received).toHaveLength(200);
      expect(new Set(r.received.map((x) => x.id)).size).toBe(200);
      const seqs = r.received.map((x) => x.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      await deleteWebhook(id);
    } finally {
      await second.close();
    }
  }, 60_000);

  it('refuses URLs to loopback, private, link-local and metadata addresses without WEBHOOK_ALLOW_PRIVATE_URLS, changing nothing', async () => {
    const strict = await startTestGateway({ WEBHOOK_DISPATCH_ENABLED: 'false' }, { database: t.db });
    try {
      const [{ n: before }] = await t.db.query(`SELECT count(*)::int AS n FROM webhooks`);
      const [{ n: auditBefore }] = await t.db.query(`SELECT count(*)::int AS n FROM audit_log`);
      for (const url of [
        'https://127.0.0.1/hook',
        'https://10.0.0.1/hook',
        'https://169.254.169.254/latest/meta-data',
        'https://[::1]/hook',
        'https://localhost/hook',
        'https://[::ffff:127.0.0.1]/hook',
        'https://[::ffff:a9fe:a9fe]/hook',
        'https://[fd00:ec2::254]/hook',
        'https://0.0.0.0/hook',
        'https://192.168.1.10:8443/hook',
        'ftp://example.com/hook',
        'not a url',
      ]) {
        const res = await strict.gql(CREATE, { input: { url, events: ['task.created'] } });
        expect({ url, code: res.body.errors?.[0].extensions?.code, field: res.body.errors?.[0].extensions?.field }).toEqual({
          url,
          code: 'BAD_USER_INPUT',
          field: 'url',
        });
      }
      for (const input of [
        { url: 'https://example.com/hook', events: ['task.nope'] },
        { url: 'https://example.com/hook', events: [] },
        { url: `https://example.com/${'x'.repeat(2100)}`, events: ['task.created'] },
        { url: 'https://example.com/hook', events: ['task.created'], description: 'x'.repeat(501) },
      ]) {
        const res = await strict.gql(CREATE, { input });
        expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      }
      const [{ n: after }] = await t.db.query(`SELECT count(*)::int AS n FROM webhooks`);
      const [{ n: auditAfter }] = await t.db.query(`SELECT count(*)::int AS n FROM audit_log`);
      expect([after, auditAfter]).toEqual([before, auditBefore]);
    } finally {
      await strict.close();
    }
  }, 30_000);
});
