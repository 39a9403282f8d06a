import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startTestGateway, TEST_SECRETS_KEYS, type TestGateway } from './support/gateway';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * A gateway process SIGKILLed in the middle of delivering, and the send-time address check. The
 * in-process gateway serves the API only (WEBHOOK_DISPATCH_ENABLED=false); gateway processes
 * started as `npm start` would deliver.
 */
const ROOT = join(__dirname, '..');
const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_RETRY_BASE_MS: '200',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_CONNECT_TIMEOUT_MS: '500',
};

let t: TestGateway;
const children: ChildProcess[] = [];
let r: WebhookReceiver;

beforeAll(async () => {
  t = await startTestGateway({ ...WEBHOOK_ENV, WEBHOOK_DISPATCH_ENABLED: 'false' });
  r = await new WebhookReceiver().start();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await r.close();
  await t.close();
});

/** The gateway as `npm start` runs it, on the test database, delivering webhooks. */
async function startProcess(): Promise<ChildProcess> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|DB_|TEST_|PORT$|NODE_ENV$)/.test(k)));
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...env,
      ...WEBHOOK_ENV,
      NODE_ENV: 'test',
      DATABASE_URL: t.db.url,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      SECRETS_KEYS: TEST_SECRETS_KEYS,
      HEALTH_MONITOR_ENABLED: 'false',
    },
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const until = Date.now() + 60_000;
  while (!/gateway listening/.test(out)) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`the gateway process did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

describe('webhooks across a crash', () => {
  it('loses nothing when the delivering gateway is SIGKILLed mid-delivery and started again', async () => {
    let inFlight = 0;
    r.answer = async () => {
      inFlight++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFlight--;
      return 200;
    };
    const res = await t.gql(`mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }`, {
      input: { url: r.url, events: ['task.created'] },
    });
    expect(res.body.errors).toBeUndefined();
    r.secrets = [res.body.data.createWebhook.secret];
    const webhookId = res.body.data.createWebhook.webhook.id;

    const first = await startProcess();
    // written by SQL, as an agent might: the change log has them all the same
    const sent: string[] = (
      await t.db.query(`INSERT INTO tasks (title, type) SELECT 'crash-' || g, 'crash' FROM generate_series(1, 200) g RETURNING id`)
    ).map((row: { id: string }) => row.id);
    await r.waitFor(() => r.accepted().length >= 30 && inFlight > 0, 30_000, 'deliveries under way');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const before = r.accepted().length;
    expect(before).toBeLessThan(200);

    await startProcess();
    // the killed instance's lease runs out (WEBHOOK_TIMEOUT_MS + 10 s), then the new one resumes
    await r.waitFor(() => new Set(r.accepted().map((x) => x.payload.data.id)).size >= 200, 60_000, 'every event');
    const ids = new Set(r.accepted().map((x) => x.payload.data.id));
    expect(sent.every((id) => ids.has(id))).toBe(true);
    expect(r.received.every((x) => x.verified)).toBe(true);
    // in order of first arrival; repeats (at-least-once, same webhook-id) only of what was sent but
    // not yet recorded at the kill: successes are recorded 25 at a time (or every 100 ms)
    const firstSeen: number[] = [];
    for (const x of r.accepted()) if (!firstSeen.includes(x.seq)) firstSeen.push(x.seq);
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
    expect(r.accepted().length - 200).toBeLessThanOrEqual(25);
    const [row] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'succeeded'`, [
      webhookId,
    ]);
    expect(row.n).toBe(200);
    await t.gql(`mutation ($id: UUID!) { deleteWebhook(input: { id: $id }) { id } }`, { id: webhookId });
  }, 150_000);

  it('checks the address again at send time: an instance without WEBHOOK_ALLOW_PRIVATE_URLS sends nothing to loopback', async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    r.received.length = 0;
    r.answer = () => 200;
    const strict = await startTestGateway({ ...WEBHOOK_ENV, WEBHOOK_ALLOW_PRIVATE_URLS: 'false' }, { database: t.db });
    try {
      // created where allowed (t), sent by the strict instance only
      const res = await t.gql(`mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`, {
        input: { url: r.url.replace('127.0.0.1', 'localhost'), events: ['task.created'] },
      });
      expect(res.body.errors).toBeUndefined();
      const id = res.body.data.createWebhook.webhook.id;
      await t.db.query(`INSERT INTO tasks (title) VALUES ('refused at send time')`);
      const until = Date.now() + 10_000;
      let rows: { error: string | null; status: string }[] = [];
      while (Date.now() < until && !rows[0]?.error) {
        rows = await t.db.query(`SELECT error, status FROM webhook_deliveries WHERE webhook_id = $1`, [id]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(rows[0]).toEqual({ error: 'REFUSED_ADDRESS', status: 'retrying' });
      expect(r.received).toHaveLength(0);
      await t.gql(`mutation ($id: UUID!) { deleteWebhook(input: { id: $id }) { id } }`, { id });
    } finally {
      await strict.close();
    }
  }, 60_000);

  it('a receiver answering 500 for 20 s, then 200, gets every event after, in order, the first under one webhook-id', async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    r.received.length = 0;
    const failUntil = Date.now() + 20_000;
    r.answer = () => (Date.now() < failUntil ? 500 : 200);
    const res = await t.gql(`mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }`, {
      input: { url: r.url, events: ['task.created'], filter: { type: 'twenty' } },
    });
    expect(res.body.errors).toBeUndefined();
    r.secrets = [res.body.data.createWebhook.secret];
    const id = res.body.data.createWebhook.webhook.id;
    await startProcess(); // WEBHOOK_RETRY_BASE_MS=200: retries after ~0.2, 1, 5, 25 s
    const sent: string[] = (
      await t.db.query(
        `INSERT INTO tasks (title, type) SELECT 'twenty-' || g, 'twenty' FROM generate_series(1, 10) g ORDER BY g RETURNING id`,
      )
    ).map((row: { id: string }) => row.id);
    await r.waitFor(() => r.accepted().length >= 10, 60_000, '10 deliveries after 20 s of 500s');
    expect(r.accepted().map((x) => x.payload.data.id)).toEqual(sent);
    const failed = r.received.filter((x) => x.answered === 500);
    expect(failed.length).toBeGreaterThanOrEqual(4);
    expect(new Set(failed.map((f) => f.id))).toEqual(new Set([r.accepted()[0].id]));
    expect(r.received.every((x) => x.verified)).toBe(true);
    const log = await t.gql(`query ($id: UUID!) { webhookDeliveries(webhookId: $id, first: 20) { nodes { messageId status attempts } } }`, {
      id,
    });
    const nodes: { messageId: string; status: string; attempts: number }[] = log.body.data.webhookDeliveries.nodes;
    expect(nodes.find((n) => n.messageId === r.accepted()[0].id)).toEqual({
      messageId: r.accepted()[0].id,
      status: 'SUCCEEDED',
      attempts: failed.length + 1,
    });
    expect(nodes.every((n) => n.status === 'SUCCEEDED')).toBe(true);
  }, 90_000);
});
