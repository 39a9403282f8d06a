// Webhook delivery lag (issue 24): a receiver on 127.0.0.1, one webhook for task.created, and
// createTask over HTTP at RATE per second for SECONDS; the lag of each event is the time it
// arrived at the receiver minus the change's own time (the body's `timestamp`, the change log's
// occurred_at, on the same machine's clock). Prints p50/p95/p99/max, events, duplicates and
// whether they arrived in seq order. Against a running gateway started with
// WEBHOOK_ALLOW_PRIVATE_URLS=true (the receiver is on loopback):
//   GATEWAY_URL=http://127.0.0.1:4000/graphql TOKEN=<admin token> node bench/webhooks.cjs [rate] [seconds]
const { setTimeout } = require('node:timers');
const { Worker } = require('node:worker_threads');
const { fetch } = globalThis;

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
const token = process.env.TOKEN;
const RATE = Number(process.argv[2] ?? 100);
const SECONDS = Number(process.argv[3] ?? 30);

async function gql(query, variables) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const RECEIVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
let batch = [];
setInterval(() => { if (batch.length) { parentPort.postMessage(batch); batch = []; } }, 50);
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    batch.push({ id: req.headers['webhook-id'], lagMs: at - Date.parse(body.timestamp) });
    res.end('ok');
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

(async () => {
  // the receiver in its own thread (event loop), as a receiver is not the process writing
  const arrivals = [];
  const receiver = new Worker(RECEIVER, { eval: true });
  receiver.on('message', (m) => Array.isArray(m) && arrivals.push(...m));
  const port = await new Promise((resolve) => receiver.once('message', resolve));
  const type = `bench-webhooks-${Date.now()}`;
  const { createWebhook } = await gql('mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }', {
    i: { url: `http://127.0.0.1:${port}/hook`, events: ['task.created'], filter: { type } },
  });
  const total = RATE * SECONDS;
  const started = Date.now();
  const writes = [];
  for (let i = 0; i < total; i++) {
    // paced by the clock, not by answers: RATE writes per second whatever their latency
    const due = started + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    writes.push(gql('mutation ($i: CreateTaskInput!) { createTask(input: $i) { id } }', { i: { title: `lag ${i}`, type } }));
  }
  await Promise.all(writes);
  const writeSeconds = (Date.now() - started) / 1000;
  const until = Date.now() + 60_000;
  while (new Set(arrivals.map((a) => a.id)).size < total && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
  // KEEP=1 leaves the webhook and its delivery log for a look (queued_at vs delivered_at)
  if (!process.env.KEEP) await gql('mutation ($id: UUID!) { deleteWebhook(input: { id: $id }) { id } }', { id: createWebhook.webhook.id });
  await receiver.terminate();
  const lags = arrivals.map((a) => a.lagMs);
  const seqs = arrivals.map((a) => Number(String(a.id).replace('msg_', '')));
  console.log(
    JSON.stringify({
      rate: RATE,
      seconds: SECONDS,
      achievedWriteRate: Math.round(total / writeSeconds),
      events: total,
      received: arrivals.length,
      distinct: new Set(arrivals.map((a) => a.id)).size,
      inSeqOrder: seqs.every((s, i) => i === 0 || s > seqs[i - 1]),
      lagMs: { p50: pct(lags, 0.5), p95: pct(lags, 0.95), p99: pct(lags, 0.99), max: Math.max(...lags) },
    }),
  );
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
