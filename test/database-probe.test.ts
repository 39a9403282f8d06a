import { createServer, type Server, type Socket } from 'node:net';
import { DatabaseProbe } from '../src/health/database-probe';
import { captureLogs } from './support/log-capture';

/*
 * The dedicated health connection against servers that do not behave: one that accepts connections
 * and never answers (a hung or partitioned database), and a port where nothing listens.
 */

const { logger } = captureLogs();
let hung: Server;
let hungPort: number;
const sockets: Socket[] = [];
const closed = new Set<Socket>();

beforeAll(async () => {
  // Accepts, reads and never speaks.
  hung = createServer((socket) => {
    sockets.push(socket);
    socket
      .on('close', () => closed.add(socket))
      .on('error', () => undefined)
      .resume();
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', () => resolve()));
  hungPort = (hung.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => hung.close(resolve));
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

it('calls a server that never answers down at the deadline, and drops the connection', async () => {
  const probe = new DatabaseProbe(
    { host: '127.0.0.1', port: hungPort, user: 'postgres', password: 'hunter2-secret' },
    'typeorm_migrations',
    300,
    logger,
    ['hunter2-secret'],
  );
  const started = Date.now();
  const result = await probe.probe();
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(result).toMatchObject({ connected: false, responseTimeMs: null, serverVersion: null, appliedMigrations: null });
  expect(result.error).toMatch(/did not answer within 300 ms|timeout/i);
  expect(result.error).not.toContain('hunter2-secret');
  await new Promise((r) => setTimeout(r, 100));
  expect(sockets.length).toBeGreaterThan(0);
  expect(sockets.every((s) => closed.has(s))).toBe(true);
  await probe.close();
});

it('shares one look among concurrent callers', async () => {
  const before = sockets.length;
  const probe = new DatabaseProbe({ host: '127.0.0.1', port: hungPort, user: 'postgres' }, 'typeorm_migrations', 200, logger);
  const results = await Promise.all([probe.probe(), probe.probe(), probe.probe()]);
  expect(results[0]).toBe(results[1]);
  expect(results[1]).toBe(results[2]);
  expect(sockets.length - before).toBe(1);
  await probe.close();
});

it('reports a port where nothing listens at once, without the password', async () => {
  const port = await freePort();
  const probe = new DatabaseProbe(
    { connectionString: `postgres://postgres:hunter2-secret@127.0.0.1:${port}/x` },
    'typeorm_migrations',
    800,
    logger,
    ['hunter2-secret'],
  );
  const result = await probe.probe();
  expect(result.connected).toBe(false);
  expect(result.error).toMatch(/ECONNREFUSED/);
  expect(result.error).not.toContain('hunter2');
  await probe.close();
});
