import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config';
import { connectionFailure } from '../errors';
import type { Logger } from '../logger';
import { createDataSource, type Catalogue } from './data-source';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded';
import { streamingReplica, type StreamingReplica } from './embedded-replica';
import { ReplicaSet } from './replicas';

export interface Database {
  dataSource: DataSource;
  /** The read replicas (DATABASE_REPLICA_URLS, EMBEDDED_PG_REPLICAS), when there are any. */
  replicas?: ReplicaSet;
  close(): Promise<void>;
}

/**
 * Start-up waits for the database: a server still starting (or restarting) is retried with
 * backoff (0.25 s doubling to 5 s) for `connectTimeoutSeconds`, each attempt logged; then, or at
 * once for a refusal no wait can fix (bad password, no such database), the error says what to do.
 */
export async function connectWithRetry(dataSource: DataSource, db: DatabaseConfig, logger: Logger): Promise<void> {
  const until = Date.now() + db.connectTimeoutSeconds * 1000;
  let delay = 250;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await dataSource.initialize();
      if (attempt > 1) logger.info(`database reachable after ${attempt} attempts`);
      return;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // A server still on its way (refused, starting up, gone again), not a wrong password.
      const failure = connectionFailure(error);
      if (failure !== 'unreachable' && failure !== 'saturated' && failure !== 'lost') throw error;
      const left = until - Date.now();
      if (left <= 0) {
        throw new Error(
          `the database did not answer within DB_CONNECT_TIMEOUT_SECONDS=${db.connectTimeoutSeconds} (${attempt} attempts, last: ${reason}); check that it runs and that DATABASE_URL / DB_HOST / DB_PORT point at it`,
          { cause: error },
        );
      }
      const wait = Math.min(delay, left);
      logger.warn(`database not reachable (attempt ${attempt}: ${reason}); retrying in ${wait} ms`, { attempt, retryInMs: wait });
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/**
 * Cancels the statements the data source's pool is running now (pg_cancel_backend through
 * `control`, another pool): at the shutdown deadline. Returns how many were cancelled.
 */
export async function cancelRunningStatements(dataSource: DataSource, control: DataSource): Promise<number> {
  const pool = (dataSource.driver as unknown as { master?: Pool & { _clients?: { processID?: number; _activeQuery?: unknown }[] } }).master;
  const pids = (pool?._clients ?? []).filter((c) => c._activeQuery && c.processID).map((c) => c.processID as number);
  if (pids.length === 0) return 0;
  await control.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
  return pids.length;
}

/**
 * A second, small pool for per-request bookkeeping (token checks, rate-limit counters). Were they
 * on the application pool, a saturated pool would queue every request's authentication behind the
 * slow queries, and an operator could not even ask `poolHealth` why.
 */
export async function openControlDataSource(db: DatabaseConfig, catalogue: Catalogue, logger: Logger): Promise<DataSource> {
  const control = createDataSource(
    { ...db, pool: { ...db.pool, min: 0, max: 2, connectionTimeoutMs: Math.min(db.pool.connectionTimeoutMs, 2_000) } },
    catalogue,
    logger,
  );
  await control.initialize();
  return control;
}

/**
 * Connects to the configured PostgreSQL (waiting for it, see connectWithRetry), or starts the
 * embedded one when none is configured, then applies pending migrations when `runMigrations` is on.
 */
export async function openDatabase(db: DatabaseConfig, catalogue: Catalogue, logger: Logger): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  const embeddedReplicas: StreamingReplica[] = [];
  const replicaUrls = [...db.replicas.urls];
  const stopEmbedded = async () => {
    for (const replica of embeddedReplicas) await replica.stop().catch(() => undefined);
    await embedded?.stop();
  };
  if (db.embedded) {
    const password = db.password ?? 'postgres';
    embedded = await startEmbeddedPostgres({ ...db.embedded, user: db.user, password, database: db.name, persistent: true }, logger);
    // EMBEDDED_PG_REPLICAS: streaming replicas beside it, on the ports after EMBEDDED_PG_PORT.
    try {
      for (let i = 1; i <= db.embedded.replicas; i += 1) {
        const port = db.embedded.port + i;
        const replica = await streamingReplica(
          {
            primary: { port: db.embedded.port, user: db.user, password, dataDir: db.embedded.dataDir },
            dataDir: `${db.embedded.dataDir}-replica-${i}`,
            port,
            slot: `taskmaster_replica_${i}`,
          },
          logger,
        );
        await replica.start();
        embeddedReplicas.push(replica);
        replicaUrls.push(
          `postgres://${encodeURIComponent(db.user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db.name)}`,
        );
        logger.info(`embedded PostgreSQL replica ${i} listening on 127.0.0.1:${port} (data in ${replica.dataDir})`);
      }
    } catch (error) {
      await stopEmbedded();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `EMBEDDED_PG_REPLICAS=${db.embedded.replicas}: a replica of the embedded PostgreSQL did not start (${reason}); is a port after EMBEDDED_PG_PORT taken? Set EMBEDDED_PG_REPLICAS=0 to run without`,
        { cause: error },
      );
    }
  }
  const dataSource = createDataSource(db, catalogue, logger);
  let replicas: ReplicaSet | undefined;
  try {
    await connectWithRetry(dataSource, db, logger);
    if (db.runMigrations) {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      logger.info(applied.length > 0 ? `applied migrations: ${applied.map((m) => m.name).join(', ')}` : 'database schema is up to date');
    }
    if (replicaUrls.length > 0) {
      replicas = new ReplicaSet(dataSource, replicaUrls, db, logger);
      await replicas.start();
      logger.info(`reading from ${replicaUrls.length} replica(s): ${replicas.replicas.map((r) => `${r.name} ${r.state}`).join(', ')}`);
    }
  } catch (error) {
    await replicas?.close();
    if (dataSource.isInitialized) await dataSource.destroy();
    await stopEmbedded();
    throw error;
  }
  return {
    dataSource,
    replicas,
    async close() {
      await replicas?.close();
      if (embedded) await destroyAndWaitForSockets(dataSource);
      else await dataSource.destroy();
      await stopEmbedded();
    },
  };
}

/**
 * Destroys the data source and waits (at most 2 s) until its pool's connections have closed:
 * pg-pool's end() answers as soon as it has asked them to, before their sockets are gone, and the
 * embedded server stopped right after would cut them ("terminating connection due to administrator
 * command" in the log of a clean stop). pg-pool emits `remove` once a client has ended.
 */
async function destroyAndWaitForSockets(dataSource: DataSource): Promise<void> {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  let open = pool?.totalCount ?? 0;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    if (!pool || open === 0) return resolve();
    pool.on('remove', () => {
      if (--open === 0) resolve();
    });
    timer = setTimeout(resolve, 2_000);
  });
  await dataSource.destroy();
  await closed;
  clearTimeout(timer);
}
