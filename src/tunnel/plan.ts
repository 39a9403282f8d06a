/**
 * Resolves the tunnel section of the configuration (src/config/tunnel.ts) into a `TunnelPlan` once
 * the gateway's port and database are known. Pure; errors name the variable.
 */
import {
  ConfigError,
  type Config,
  type DatabaseConfig,
  type EnabledTunnelConfig,
  type ExtraIngressRule,
  type OriginTimeouts,
} from '../config';
import { hostForUrl } from '../config/syntax';

/** Everything the generator needs, resolved: hostnames, origin URLs, the database target. */
export interface TunnelPlan {
  tunnelId: string;
  credentialsFile: string;
  configFile: string;
  metrics?: string;
  originRequest: OriginTimeouts;
  /** `source`: the variable that decides the origin, for error messages. */
  graphql: { hostname: string; path: string; service: string; source: string };
  database?: { hostname: string; service: string; connectTimeout: string; tcpKeepAlive: string; source: string };
  extraIngress: ExtraIngressRule[];
}

/** The path pattern of the GraphQL rule: anchored, so `/api/graphql-old` and `/graphqlx` do not match. */
export const GRAPHQL_PATH = '^/graphql(/|$)';

/** Where PostgreSQL listens, as the gateway itself reaches it. */
export function databaseTarget(db: DatabaseConfig): { host: string; port: number } {
  if (db.embedded) return { host: '127.0.0.1', port: db.embedded.port };
  if (db.url === undefined) return { host: db.host, port: db.port };
  let url: URL;
  try {
    url = new URL(db.url);
  } catch {
    throw new ConfigError('DATABASE_URL', 'cannot expose the database through the tunnel: its URL does not name a single host:port');
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '' || url.searchParams.has('host')) {
    throw new ConfigError(
      'CLOUDFLARE_EXPOSE_DB',
      'the database is reached through a Unix socket; a tunnel TCP service needs a host:port (set DATABASE_URL to a TCP address, or turn CLOUDFLARE_EXPOSE_DB off)',
    );
  }
  return { host: decodeURIComponent(host), port: url.port === '' ? 5432 : Number(url.port) };
}

/**
 * Resolves the config for a gateway listening on `port` (the real one: with PORT=0 it is known only
 * after the server has bound). The GraphQL origin is HOST unless it is a wildcard bind.
 */
export function planTunnel(config: Pick<Config, 'host' | 'db'>, tunnel: EnabledTunnelConfig, port: number): TunnelPlan {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError('PORT', `the tunnel needs the gateway's real port, got ${port}`);
  }
  const wildcard = ['0.0.0.0', '::', '[::]', ''].includes(config.host);
  const originHost = tunnel.originHost ?? (wildcard ? '127.0.0.1' : config.host);
  let database: TunnelPlan['database'];
  if (tunnel.database.expose) {
    const target = databaseTarget(config.db);
    database = {
      hostname: `${tunnel.database.subdomain}.${tunnel.domain}`,
      service: `tcp://${hostForUrl(target.host)}:${target.port}`,
      connectTimeout: tunnel.database.connectTimeout,
      tcpKeepAlive: tunnel.database.tcpKeepAlive,
      source: config.db.embedded ? 'EMBEDDED_PG_PORT' : config.db.url !== undefined ? 'DATABASE_URL' : 'DB_HOST',
    };
  }
  return {
    tunnelId: tunnel.tunnelId,
    credentialsFile: tunnel.credentialsFile,
    configFile: tunnel.configFile,
    metrics: tunnel.metrics,
    originRequest: tunnel.originRequest,
    graphql: {
      hostname: `${tunnel.subdomain}.${tunnel.domain}`,
      path: GRAPHQL_PATH,
      service: `http://${hostForUrl(originHost)}:${port}`,
      source: tunnel.originHost !== undefined ? 'CLOUDFLARE_ORIGIN_HOST' : 'HOST',
    },
    database,
    extraIngress: tunnel.extraIngress,
  };
}
