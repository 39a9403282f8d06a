import { Client, type ClientConfig } from 'pg';
import { connectionFailure } from '../errors';
import type { Logger } from '../logger';

/** What one look at the database found. Figures are null when they could not be read in time. */
export interface DatabaseProbeResult {
  connected: boolean;
  responseTimeMs: number | null;
  /** Why the database counts as down; safe to show (never a connection string or password). */
  error?: string;
  serverVersion: string | null;
  sizeBytes: number | null;
  connections: number | null;
  maxConnections: number | null;
  cacheHitRatio: number | null;
  deadlocks: number | null;
  longestQuerySeconds: number | null;
  /** Names of applied migrations, or null when they could not be read. */
  appliedMigrations: string[] | null;
}

const STATS_SQL = `
SELECT current_setting('server_version') AS server_version,
       pg_database_size(current_database())::float8 AS size_bytes,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections,
       current_setting('max_connections')::int AS max_connections,
       (SELECT blks_hit::float8 / nullif(blks_hit + blks_read, 0) FROM pg_stat_database WHERE datname = current_database()) AS cache_hit_ratio,
       (SELECT deadlocks::float8 FROM pg_stat_database WHERE datname = current_database()) AS deadlocks,
       (SELECT coalesce(extract(epoch FROM max(clock_timestamp() - query_start)), 0)::float8 FROM pg_stat_activity
         WHERE state = 'active' AND datname = current_database() AND pid <> pg_backend_pid()) AS longest_query_seconds,
       to_regclass($1) IS NOT NULL AS has_migrations_table`;

/** A row of STATS_SQL (the casts there make the numbers JavaScript numbers). */
interface StatsRow {
  server_version: string;
  size_bytes: number;
  connections: number;
  max_connections: number;
  cache_hit_ratio: number | null;
  deadlocks: number | null;
  longest_query_seconds: number;
  has_migrations_table: boolean;
}

/**
 * Looks at the database through a connection of its own, never the gateway's pool, so that a
 * saturated pool cannot make a health check wait. Every look has a deadline: past it the database
 * counts as down and the connection is dropped (a fresh one is opened next time). Concurrent callers
 * share the look in flight, so probes cannot pile up on the database.
 */
export class DatabaseProbe {
  private client?: Client;
  private inFlight?: Promise<DatabaseProbeResult>;
  private closed = false;

  constructor(
    private readonly connection: ClientConfig,
    private readonly migrationsTable: string,
    private readonly deadlineMs: number,
    private readonly logger: Logger,
    /** Strings that must never appear in a reported error (the password). */
    private readonly secrets: string[] = [],
  ) {}

  probe(): Promise<DatabaseProbeResult> {
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight?.catch(() => undefined);
    this.drop();
  }

  private async run(): Promise<DatabaseProbeResult> {
    const result: DatabaseProbeResult = {
      connected: false,
      responseTimeMs: null,
      serverVersion: null,
      sizeBytes: null,
      connections: null,
      maxConnections: null,
      cacheHitRatio: null,
      deadlocks: null,
      longestQuerySeconds: null,
      appliedMigrations: null,
    };
    if (this.closed) return { ...result, error: 'the gateway is shutting down' };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.deadlineMs);
    });
    try {
      const outcome = await Promise.race([this.look(result), deadline]);
      if (outcome === 'timeout') {
        this.drop(); // a statement may still be running on it
        // A copy: the abandoned look may still write into `result`.
        return { ...result, error: result.connected ? undefined : `the database did not answer within ${this.deadlineMs} ms` };
      }
      return { ...result };
    } catch (error) {
      this.drop();
      return { ...result, connected: false, responseTimeMs: null, error: this.safeMessage(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  private async look(result: DatabaseProbeResult): Promise<void> {
    const client = await this.connect();
    const started = performance.now();
    await client.query('SELECT 1');
    result.responseTimeMs = Math.round((performance.now() - started) * 100) / 100;
    result.connected = true;
    try {
      const { rows } = await client.query<StatsRow>(STATS_SQL, [this.migrationsTable]);
      const row = rows[0];
      result.serverVersion = row.server_version;
      result.sizeBytes = row.size_bytes;
      result.connections = row.connections;
      result.maxConnections = row.max_connections;
      result.cacheHitRatio = row.cache_hit_ratio;
      result.deadlocks = row.deadlocks;
      result.longestQuerySeconds = Math.round(row.longest_query_seconds * 1000) / 1000;
      result.appliedMigrations = row.has_migrations_table
        ? (await client.query<{ name: string }>(`SELECT name FROM ${quoteTable(this.migrationsTable)} ORDER BY id`)).rows.map((r) => r.name)
        : [];
    } catch (error) {
      // Statistics are best effort (a restricted role may not read them); reachability is what counts.
      if (connectionFailure(error) === undefined) {
        this.logger.debug('health: could not read database statistics', { error: this.safeMessage(error) });
        return;
      }
      throw error;
    }
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client({ ...this.connection, connectionTimeoutMillis: this.deadlineMs });
    // Without a listener, an error on an idle connection (the server went away) would end the process.
    client.on('error', (error) => {
      this.logger.debug('health: dedicated connection failed', { error: this.safeMessage(error) });
      if (this.client === client) this.drop();
    });
    this.client = client;
    try {
      await client.connect();
    } catch (error) {
      if (this.client === client) this.client = undefined;
      throw error;
    }
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.end().catch(() => undefined);
    // end() waits for the server's goodbye, which a dead or hung server never sends.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }

  private safeMessage(error: unknown): string {
    let message = error instanceof Error ? error.message : String(error);
    if (!message || /^\s*$/.test(message)) message = (error as { code?: string })?.code ?? 'unknown error';
    for (const secret of this.secrets) if (secret) message = message.split(secret).join('***');
    return message.replace(/postgres(ql)?:\/\/[^\s]*/gi, 'postgres://***');
  }
}

function quoteTable(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}
