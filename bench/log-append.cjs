// Cost of appendExecutionLog as an execution's log grows (issue 25): one execution, batches of 10
// entries of ~100 bytes of JSON each; at 1,000 / 5,000 / 10,000 / 20,000 entries the median of 5
// appends (timed from outside, over HTTP, after 50 warm-up appends to another execution); between the sizes the log is filled with calls of 500
// entries. Then the growth of the tables that hold the log (pg_total_relation_size of
// task_executions plus execution_log_entries where it exists) against the JSON text appended.
// Works against a gateway of any version (main's logs arrays, or rows). Against a running gateway:
//   GATEWAY_URL=http://127.0.0.1:4000/graphql TOKEN=<operator token> DATABASE_URL=postgres://... \
//     node bench/log-append.cjs [label]
// Then concurrency: 50 writers x 10 appends (of 10 entries) to ONE execution, and 50 writers each to
// an execution of its own: appends/s and the median append, so the cost of appenders of one
// execution taking turns on its row shows beside appenders that never wait for each other.
// Prints one JSON line: { label, medians: { 1000: ms, ... }, ratio, grownBytes, textBytes,
// growthPerTextByte, concurrent: { oneExecution, ownExecutions } }.
const { Client } = require('pg');
const { performance } = require('node:perf_hooks');
const { randomBytes } = require('node:crypto');
const { fetch, Buffer } = globalThis;

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
const token = process.env.TOKEN;
const label = process.argv[2] ?? url;
const SIZES = [1_000, 5_000, 10_000, 20_000];
const BATCH = 10;
const SAMPLES = 5;
const FILL = 500;

async function gql(query, variables, { tolerate = false } = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors && !tolerate) throw new Error(JSON.stringify(body.errors));
  return body.errors ? { errors: body.errors } : body.data;
}

const APPEND = 'mutation($id: UUID!, $e: [JSON!]!) { appendExecutionLog(input: { id: $id, entries: $e }) { id } }';
let n = 0;
// ~100 bytes of JSON: {"level":"info","message":"line 000001: <64 random hex digits>"}; random, so
// that TOAST compression (main's arrays) does not shrink the text as it never would real logs.
const entry = () => ({ level: 'info', message: `line ${String(++n).padStart(6, '0')}: ${randomBytes(32).toString('hex')}` });
const entries = (count) => Array.from({ length: count }, entry);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const size = async () =>
    Number(
      (
        await db.query(
          `SELECT pg_total_relation_size('task_executions') + coalesce(pg_total_relation_size(to_regclass('execution_log_entries')), 0) AS bytes`,
        )
      ).rows[0].bytes,
    );
  const task = await gql('mutation { createTask(input: { title: "log-append bench" }) { id } }');
  const run = await gql('mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "bench" }) { id } }', {
    id: task.createTask.id,
  });
  const id = run.startExecution.id;
  // Warm-up on an execution of its own (plans, connections, JIT): not counted.
  const warm = await gql('mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "bench" }) { id } }', {
    id: task.createTask.id,
  });
  for (let i = 0; i < 50; i++) await gql(APPEND, { id: warm.startExecution.id, e: entries(BATCH) });
  await db.query('CHECKPOINT');
  const before = await size();
  let textBytes = 0;
  let appended = 0;
  const send = async (batch) => {
    textBytes += batch.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0);
    appended += batch.length;
    await gql(APPEND, { id, e: batch });
  };
  const medians = {};
  for (const target of SIZES) {
    while (appended < target) await send(entries(Math.min(FILL, target - appended)));
    const times = [];
    for (let i = 0; i < SAMPLES; i++) {
      const batch = entries(BATCH);
      const t0 = performance.now();
      await send(batch);
      times.push(performance.now() - t0);
    }
    medians[target] = Number(median(times).toFixed(2));
  }
  const grownBytes = (await size()) - before;

  const WRITERS = 50;
  const EACH = 10;
  const newExecution = async () =>
    (await gql('mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "bench" }) { id } }', { id: task.createTask.id }))
      .startExecution.id;
  const concurrent = async (targets) => {
    const times = [];
    let errors = 0;
    const t0 = performance.now();
    await Promise.all(
      targets.map(async (target) => {
        for (let i = 0; i < EACH; i++) {
          const t = performance.now();
          const res = await gql(APPEND, { id: target, e: entries(BATCH) }, { tolerate: true });
          if (res.errors) errors++;
          else times.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { appendsPerSecond: Math.round(times.length / seconds), medianMs: Number(median(times).toFixed(2)), errors };
  };
  const one = await newExecution();
  const oneExecution = await concurrent(Array.from({ length: WRITERS }, () => one));
  const own = [];
  for (let i = 0; i < WRITERS; i++) own.push(await newExecution());
  const ownExecutions = await concurrent(own);
  console.log(
    JSON.stringify({
      label,
      entries: appended,
      medians,
      ratio: Number((medians[20_000] / medians[1_000]).toFixed(2)),
      grownBytes,
      textBytes,
      growthPerTextByte: Number((grownBytes / textBytes).toFixed(2)),
      concurrent: { oneExecution, ownExecutions },
    }),
  );
  await db.end();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
