import { createConnection, type Socket } from 'node:net';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * What strangers' sockets may hold (issue 22, part 2), on a small scale: a 401 before the body is
 * read, a cap on body bytes in flight (503 + Retry-After, nothing read), a cap on sockets, and
 * deadlines that trickling does not stretch; normal requests are answered throughout.
 * bench/stalled-bodies.cjs measures the full figure (1,000 stalled 1 MB bodies).
 */
const MAX_CONNECTIONS = 12;
const BODY_LIMIT = 100_000;
let t: TestGateway;
let port: number;
const opened: Socket[] = [];

beforeAll(async () => {
  t = await startTestGateway({
    HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    GRAPHQL_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    HTTP_BODY_BYTES_IN_FLIGHT: String(BODY_LIMIT * 1.5),
    HTTP_HEADERS_TIMEOUT_SECONDS: '1',
    HTTP_BODY_TIMEOUT_SECONDS: '1',
  });
  port = Number(new URL(t.baseUrl).port);
});
afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100)); // the server sees them close
});
afterAll(() => t.close());

interface Raw {
  socket: Socket;
  /** Everything the server sent so far. */
  received: () => string;
  /** Resolves with the milliseconds from connecting until the server closed the socket. */
  closed: Promise<number>;
}

function connect(): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = createConnection({ port, host: '127.0.0.1' });
    opened.push(socket);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a reset is one way of being closed
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - started)));
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

const head = (length: number, authorization?: string) =>
  `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
  (authorization ? `Authorization: Bearer ${authorization}\r\n` : '') +
  '\r\n';

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

/** A body of `size` bytes that is a valid GraphQL request once complete. */
function bodyOf(size: number): string {
  const query = '{ __typename }';
  const envelope = JSON.stringify({ query, extensions: { pad: '' } });
  return JSON.stringify({ query, extensions: { pad: 'x'.repeat(size - envelope.length) } });
}

async function expectServed() {
  const res = await t.gql('{ __typename }');
  expect(res.status).toBe(200);
  expect(res.body.data).toEqual({ __typename: 'Query' });
}

it('answers 401 from the headers without reading the body, then closes the socket', async () => {
  const stranger = await connect();
  stranger.socket.write(head(BODY_LIMIT)); // headers only: the body never comes
  expect(await waitFor(() => stranger.received().includes('\r\n\r\n'), 2_000)).toBe(true);
  expect(stranger.received()).toMatch(/^HTTP\/1\.1 401 /);
  expect(stranger.received()).toMatch(/\r\nwww-authenticate: Bearer\r\n/i);
  expect(stranger.received()).toMatch(/"code":"UNAUTHENTICATED"/);
  // The socket is not kept for the body that never comes.
  expect(await Promise.race([stranger.closed, new Promise((resolve) => setTimeout(() => resolve('open'), 2_500))])).not.toBe('open');
  await expectServed();
});

it('refuses a body beyond the bytes in flight with 503 and Retry-After before reading it, and reads it once they are free', async () => {
  const holder = await connect();
  holder.socket.write(head(BODY_LIMIT, t.adminToken) + 'x'.repeat(1_000)); // reserves BODY_LIMIT, then stalls
  await new Promise((resolve) => setTimeout(resolve, 200));
  const refused = await connect();
  refused.socket.write(head(BODY_LIMIT, t.adminToken));
  expect(await waitFor(() => refused.received().includes('\r\n\r\n'), 2_000)).toBe(true);
  expect(refused.received()).toMatch(/^HTTP\/1\.1 503 /);
  expect(refused.received()).toMatch(/\r\nretry-after: \d+\r\n/i);
  expect(refused.received()).toMatch(/"code":"SERVICE_UNAVAILABLE"/);
  // A small body still fits beside the stalled one.
  await expectServed();
  // Once the stalled body's socket is gone, its bytes are free again.
  holder.socket.destroy();
  await holder.closed;
  await new Promise((resolve) => setTimeout(resolve, 100));
  const served = await connect();
  served.socket.write(head(BODY_LIMIT, t.adminToken) + bodyOf(BODY_LIMIT));
  expect(await waitFor(() => served.received().includes('"__typename":"Query"'), 3_000)).toBe(true);
  expect(served.received()).toMatch(/^HTTP\/1\.1 200 /);
});

it(`accepts at most HTTP_MAX_CONNECTIONS (${MAX_CONNECTIONS}) sockets and closes the others at once`, async () => {
  const sockets = await Promise.all(Array.from({ length: MAX_CONNECTIONS + 5 }, () => connect()));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const dropped = sockets.filter((s) => s.socket.closed || s.socket.destroyed);
  expect(dropped.length).toBeGreaterThanOrEqual(5);
  for (const s of dropped) expect(s.received()).toBe(''); // closed, not answered
  for (const s of sockets) s.socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  await expectServed();
});

it('closes a socket whose headers trickle in, at the headers deadline (1 s), with 408', async () => {
  const trickler = await connect();
  trickler.socket.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const drip = setInterval(() => trickler.socket.writable && trickler.socket.write('X-Drip: 1\r\n'), 200);
  const ms = await Promise.race([trickler.closed, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 5_000))]);
  clearInterval(drip);
  expect(ms).toBeLessThan(3_500); // 1 s, checked every second
  expect(trickler.received()).toMatch(/^HTTP\/1\.1 408 /);
  await expectServed();
});

it('closes a socket whose body trickles in, at the request deadline (1 s + 1 s), with 408', async () => {
  const trickler = await connect();
  trickler.socket.write(head(1_000, t.adminToken));
  const drip = setInterval(() => trickler.socket.writable && trickler.socket.write(' '), 100);
  const ms = await Promise.race([trickler.closed, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 6_000))]);
  clearInterval(drip);
  expect(ms).toBeLessThan(4_500);
  expect(trickler.received()).toMatch(/^HTTP\/1\.1 408 /);
  await expectServed();
});

it('closes a new socket that sends nothing at the headers deadline', async () => {
  const idle = await connect();
  const ms = await Promise.race([idle.closed, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 5_000))]);
  expect(ms).toBeLessThan(3_500);
});
