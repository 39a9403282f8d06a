// What strangers' sockets cost a running gateway (issue 22, part 2; docs/security.md). Loopback only,
// bounded, stops by itself. Two measures:
//
//   stalled (default): SOCKETS unauthenticated sockets each send POST /graphql headers declaring a
//     BODY_BYTES body and all of it but the last byte, then stall. Meanwhile an authenticated `{ __typename }` every 100 ms.
//     Prints the gateway's RSS before, at its peak and at the end (from /proc/<pid>/status), what the
//     strangers heard, and how the normal requests fared.
//   stalled-auth: the same with the token: the bodies are read, up to HTTP_BODY_BYTES_IN_FLIGHT between
//     them (64 MB by default); the others are answered 503 with Retry-After, unread.
//   idle: SOCKETS sockets that connect and send nothing (spread over child processes, 5,000 each, for
//     the file-handle limit); prints the most file handles the gateway held meanwhile (/proc/<pid>/fd).
//
// Usage (a gateway already running on this machine, e.g. as bench/README.md starts it):
//   GATEWAY_URL=http://127.0.0.1:4000/graphql GATEWAY_PID=<pid> TOKEN=tmg_... \
//     node bench/stalled-bodies.cjs [stalled|stalled-auth|idle] [SOCKETS=1000] [BODY_BYTES=1048576] [SECONDS=20]
const { createConnection } = require('node:net');
const { fork } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { setTimeout, setInterval, clearInterval } = require('node:timers');
const { URL } = require('node:url');
const { Buffer } = require('node:buffer');
const { fetch, AbortSignal } = globalThis;
const SELF = join(__dirname, 'stalled-bodies.cjs');

const [mode = 'stalled', socketsArg, bodyArg, secondsArg] = process.argv.slice(2);
const url = new URL(process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql');
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`loopback only, not ${url.hostname}`);
const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/[[\]]/g, '');
const port = Number(url.port || 80);
const SOCKETS = Number(socketsArg ?? (mode === 'idle' ? 20_000 : 1_000));
const BODY_BYTES = Number(bodyArg ?? 1_048_576);
const SECONDS = Math.min(Number(secondsArg ?? 20), 120);
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function rssKb() {
  const pid = process.env.GATEWAY_PID;
  if (!pid) return NaN;
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m);
  return line ? Number(line[1]) : NaN;
}

function fds() {
  const pid = process.env.GATEWAY_PID;
  return pid ? readdirSync(`/proc/${pid}/fd`).length : NaN;
}

/** Opens `count` sockets that send `payload` (or nothing) and stall; resolves with their records. */
async function openSockets(count, payload) {
  const records = [];
  for (let i = 0; i < count; i++) {
    const record = { text: '', closed: false, error: undefined };
    const socket = createConnection({ host, port });
    record.socket = socket;
    socket.on('data', (chunk) => {
      if (record.text.length < 200) record.text += chunk.toString('latin1');
    });
    socket.on('error', (error) => (record.error = error.code));
    socket.on('close', () => (record.closed = true));
    if (payload) socket.once('connect', () => payload.forEach((part) => socket.write(part)));
    records.push(record);
    if (i % 200 === 199) await sleep(10); // let the accept queue breathe
  }
  return records;
}

async function idleChild(count) {
  const records = await openSockets(count);
  await sleep(1_000);
  const open = records.filter((r) => !r.closed).length;
  process.send({ open, refused: records.filter((r) => r.error).length });
  await sleep(500);
  records.forEach((r) => r.socket.destroy());
  process.exit(0);
}

async function idle() {
  const per = 5_000;
  const children = [];
  for (let left = SOCKETS; left > 0; left -= per) {
    const child = fork(SELF, ['idle-child', String(Math.min(per, left))], { env: process.env });
    children.push(new Promise((resolve) => child.once('message', resolve)));
  }
  let peakFds = 0;
  const sampler = setInterval(() => (peakFds = Math.max(peakFds, fds())), 50);
  const results = await Promise.all(children);
  clearInterval(sampler);
  const open = results.reduce((n, r) => n + r.open, 0);
  console.log(
    `idle: ${SOCKETS} sockets opened; the gateway held at most ${peakFds} file handles (${fds()} after); ` +
      `${SOCKETS - open} closed by the gateway within 1 s, ${open} not (accepted, or still unaccepted in the kernel's queue)`,
  );
  console.log(`gateway RSS: ${mb(rssKb())}`);
}

/** An authenticated `{ __typename }` every 100 ms until told to stop; reports to the parent. */
async function probeChild() {
  const normal = { ok: 0, other: 0, failed: 0, errors: {}, ms: [] };
  let running = true;
  process.on('message', () => (running = false));
  while (running) {
    const started = performance.now();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.TOKEN}` },
        body: JSON.stringify({ query: '{ __typename }' }),
        signal: AbortSignal.timeout(5_000),
      });
      await res.text();
      res.status === 200 ? normal.ok++ : normal.other++;
      normal.ms.push(performance.now() - started);
      if (normal.ms.length === 1) process.send('ready'); // its keep-alive connection is open
    } catch (error) {
      normal.failed++;
      const reason = error.cause?.code ?? error.name;
      normal.errors[reason] = (normal.errors[reason] ?? 0) + 1;
    }
    await sleep(100);
  }
  process.send(normal);
  process.exit(0);
}

async function stalled() {
  const before = rssKb();
  const declared = BODY_BYTES; // within GRAPHQL_BODY_LIMIT_BYTES (1 MB by default), never completed
  const auth = mode === 'stalled-auth' ? `Authorization: Bearer ${process.env.TOKEN}\r\n` : '';
  const head = `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n${auth}\r\n`;
  const body = Buffer.alloc(BODY_BYTES - 1, 0x20); // all but the last byte
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb())), 100);
  // The normal client runs in its own process, so the strangers' writes here do not delay it.
  const prober = fork(SELF, ['probe-child', '0'], { env: process.env });
  // Its connection is made before the strangers': a new one during their burst waits on the kernel's
  // full accept queue (SYN retried after 1 s, 3 s), which no server setting changes.
  await new Promise((resolve) => prober.once('message', resolve));
  const normalDone = new Promise((resolve) => prober.once('message', resolve));
  const started = performance.now();
  const strangers = await openSockets(SOCKETS, [head, body]);
  console.log(
    `opened ${SOCKETS} sockets in ${((performance.now() - started) / 1000).toFixed(1)} s, each sending ${BODY_BYTES} bytes then stalling`,
  );
  const deadline = performance.now() + SECONDS * 1_000;
  while (performance.now() < deadline && strangers.some((r) => !r.closed)) await sleep(200);
  const closedAt = ((performance.now() - started) / 1000).toFixed(1);
  const closed = strangers.filter((r) => r.closed).length;
  await sleep(1_000);
  const after = rssKb();
  prober.send('stop');
  const normal = await normalDone;
  clearInterval(sampler);
  strangers.forEach((r) => r.socket.destroy());
  const statuses = {};
  for (const r of strangers) {
    const status = /^HTTP\/1\.1 (\d+)/.exec(r.text)?.[1] ?? (r.error ? `no answer (${r.error})` : 'no answer');
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  const sorted = normal.ms.sort((a, b) => a - b);
  const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(0) : '-');
  console.log(`strangers' answers: ${JSON.stringify(statuses)}; ${closed} of ${SOCKETS} closed by the gateway (all by ${closedAt} s)`);
  console.log(
    `gateway RSS: before ${mb(before)}, peak ${mb(peak)} (+${mb(peak - before)}), 1 s after ${mb(after)} (+${mb(after - before)})`,
  );
  console.log(
    `normal requests meanwhile: ${normal.ok} answered 200, ${normal.other} other status, ${normal.failed} failed ${JSON.stringify(normal.errors)}; ms p50 ${pct(0.5)}, p99 ${pct(0.99)}, max ${pct(1)}`,
  );
}

if (mode === 'idle-child') idleChild(SOCKETS);
else if (mode === 'probe-child') probeChild();
else if (['stalled', 'stalled-auth', 'idle'].includes(mode)) (mode === 'idle' ? idle() : stalled()).then(() => process.exit(0));
else throw new Error(`unknown mode ${mode}: stalled, stalled-auth or idle`);
