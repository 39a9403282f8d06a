import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from '../support/pg-cluster';

/**
 * The Redis the tests that keep rate-limit counters in Redis run on (RATE_LIMIT_STORE=redis), the
 * way the suite picks its PostgreSQL:
 *   1. TEST_REDIS_URL, when set;
 *   2. a Redis answering on 127.0.0.1:6379;
 *   3. a `redis-server` from PATH, started on a free port for the run (no files written);
 *   4. none: those tests are skipped, and the set-up says why (Redis is optional for the gateway,
 *      and the README's `npm test` needs nothing but Node).
 * Hands the choice to the test files as TEST_REDIS_RESOLVED_URL (or TEST_REDIS_MISSING, the reason).
 */
export async function pickRedis(): Promise<ChildProcess | undefined> {
  const given = process.env.TEST_REDIS_URL;
  if (given) return use(given, 'from TEST_REDIS_URL');
  if (await answersPing('127.0.0.1', 6379)) return use('redis://127.0.0.1:6379', 'on 127.0.0.1:6379');
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0) {
    const port = await freePort();
    const server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    for (let i = 0; !(await answersPing('127.0.0.1', port)); i++) {
      if (i > 100 || server.exitCode !== null) {
        server.kill();
        return missing(`redis-server from PATH did not answer on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    use(`redis://127.0.0.1:${port}`, `redis-server from PATH on port ${port}`);
    return server;
  }
  return missing('no TEST_REDIS_URL, nothing answers on 127.0.0.1:6379 and no redis-server on PATH');
}

function use(url: string, how: string): undefined {
  process.env.TEST_REDIS_RESOLVED_URL = url;
  console.log(`[tests] Redis ${how}`);
  return undefined;
}

function missing(why: string): undefined {
  process.env.TEST_REDIS_MISSING = why;
  console.log(
    `[tests] Redis: none (${why}); the tests of RATE_LIMIT_STORE=redis are SKIPPED. ` +
      'Install Redis (e.g. apt-get install redis-server) or set TEST_REDIS_URL to run them.',
  );
  return undefined;
}

/** True when a Redis answers PING on host:port within a second. */
function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}
