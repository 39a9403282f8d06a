/**
 * The Cloudflare tunnel section of the configuration: environment -> a typed `TunnelConfig`
 * (`tunnelConfig`, called once by `loadConfig`), then -> a fully resolved `TunnelPlan` once the
 * gateway's port and database are known (`planTunnel`). Both are pure; errors name the variable.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { bool, ConfigError, str, type Config, type DatabaseConfig, type Env } from '../config';
import { hostForUrl, isDnsLabel, isDnsName, isHost, isIPv6, isUuid, parseGoDuration, splitHostPort } from './syntax';

/** The settings cloudflared applies to every rule (`originRequest` at the top of the file). */
export interface OriginTimeouts {
  connectTimeout: string;
  tlsTimeout: string;
  keepAliveTimeout: string;
}

export interface DatabaseExposure {
  /** Route a hostname to the database as a TCP service (clients use `cloudflared access tcp`). */
  expose: boolean;
  /** First label of the database hostname (`db` -> `db.<domain>`). */
  subdomain: string;
  connectTimeout: string;
  tcpKeepAlive: string;
}

/** An ingress rule as the operator wrote it in CLOUDFLARE_EXTRA_INGRESS; the validator checks it. */
export type ExtraIngressRule = Record<string, unknown>;

export interface DisabledTunnelConfig {
  enabled: false;
  configFile: string;
}

export interface EnabledTunnelConfig {
  enabled: true;
  tunnelId: string;
  /** Absolute path of `<TunnelID>.json`, as `cloudflared tunnel create` writes it. */
  credentialsFile: string;
  /** Absolute path where the gateway writes the cloudflared config. */
  configFile: string;
  domain: string;
  /** First label of the GraphQL hostname (`db-api` -> `db-api.<domain>`, as in the original design). */
  subdomain: string;
  /** The host cloudflared dials for GraphQL; undefined = derived from HOST (127.0.0.1 for a wildcard bind). */
  originHost?: string;
  originRequest: OriginTimeouts;
  database: DatabaseExposure;
  /** `host:port` for cloudflared's Prometheus endpoint; undefined = not emitted (CLOUDFLARE_METRICS=off). */
  metrics?: string;
  extraIngress: ExtraIngressRule[];
}

export type TunnelConfig = DisabledTunnelConfig | EnabledTunnelConfig;

/** Every variable this module reads, for documentation and for `npm run tunnel:config`. */
export const TUNNEL_VARIABLES = [
  'CLOUDFLARE_ENABLED',
  'CLOUDFLARE_TUNNEL_ID',
  'CLOUDFLARE_CREDENTIALS_FILE',
  'CLOUDFLARE_CONFIG_FILE',
  'CLOUDFLARE_DOMAIN',
  'CLOUDFLARE_SUBDOMAIN',
  'CLOUDFLARE_ORIGIN_HOST',
  'CLOUDFLARE_CONNECT_TIMEOUT',
  'CLOUDFLARE_TLS_TIMEOUT',
  'CLOUDFLARE_KEEPALIVE_TIMEOUT',
  'CLOUDFLARE_EXPOSE_DB',
  'CLOUDFLARE_DB_SUBDOMAIN',
  'CLOUDFLARE_DB_CONNECT_TIMEOUT',
  'CLOUDFLARE_DB_TCP_KEEPALIVE',
  'CLOUDFLARE_METRICS',
  'CLOUDFLARE_EXTRA_INGRESS',
] as const;

export const DEFAULT_CONFIG_FILE = '.data/cloudflared/config.yml';
export const DEFAULT_METRICS = '127.0.0.1:20241';

/** A positive Go duration (`30s`, `1m30s`); a bare number or a negative value names the variable. */
function duration(env: Env, name: string, fallback: string): string {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const ns = parseGoDuration(raw);
  if (ns === undefined) {
    const hint = /^-?\d+(\.\d+)?$/.test(raw) ? ` (a number needs a unit: "${raw}s")` : '';
    throw new ConfigError(name, `expected a duration such as 30s, 1m30s or 500ms, got "${raw}"${hint}`);
  }
  if (ns <= 0) throw new ConfigError(name, `expected a duration greater than zero, got "${raw}"`);
  return raw;
}

function path(env: Env, name: string, fallback: string): string {
  const raw = str(env, name) ?? fallback;
  if (raw.includes('\0')) throw new ConfigError(name, 'expected a file path');
  return isAbsolute(raw) ? raw : resolve(raw);
}

function domain(env: Env): string | undefined {
  const raw = str(env, 'CLOUDFLARE_DOMAIN');
  if (raw === undefined) return undefined;
  const name = 'CLOUDFLARE_DOMAIN';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new ConfigError(name, `expected a bare domain such as example.com, without a scheme; got "${raw}"`);
  if (raw.includes('/')) throw new ConfigError(name, `expected a bare domain such as example.com, without a path; got "${raw}"`);
  if (/:\d*$/.test(raw)) throw new ConfigError(name, `expected a bare domain such as example.com, without a port (the tunnel serves 443); got "${raw}"`);
  if (raw.includes('*')) throw new ConfigError(name, `expected a domain, not a wildcard; got "${raw}"`);
  if (raw.endsWith('.')) throw new ConfigError(name, `expected a domain without the trailing dot; got "${raw}"`);
  const value = raw.toLowerCase();
  if (!isDnsName(value)) {
    throw new ConfigError(name, `expected a DNS name of your Cloudflare zone such as example.com (letters, digits, hyphens, at least two labels); got "${raw}"`);
  }
  return value;
}

/** One DNS label: Cloudflare's Universal SSL certificate covers `*.<domain>`, not deeper names. */
function label(env: Env, name: string, fallback: string): string {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new ConfigError(name, `expected one DNS label such as ${fallback}, without a scheme; got "${raw}"`);
  if (raw.includes(':')) throw new ConfigError(name, `expected one DNS label such as ${fallback}, without a port (the tunnel serves 443); got "${raw}"`);
  if (raw.includes('.')) {
    throw new ConfigError(
      name,
      `expected one DNS label such as ${fallback}, got "${raw}": the hostname is <label>.CLOUDFLARE_DOMAIN, and Cloudflare's Universal SSL covers only one level below the zone`,
    );
  }
  const value = raw.toLowerCase();
  if (!isDnsLabel(value)) throw new ConfigError(name, `expected one DNS label (letters, digits, inner hyphens, at most 63), got "${raw}"`);
  return value;
}

function metrics(env: Env): string | undefined {
  const raw = str(env, 'CLOUDFLARE_METRICS');
  if (raw === undefined) return DEFAULT_METRICS;
  if (['off', 'false', 'none'].includes(raw.toLowerCase())) return undefined;
  if (!splitHostPort(raw)) {
    throw new ConfigError('CLOUDFLARE_METRICS', `expected host:port such as ${DEFAULT_METRICS} (or "off"), got "${raw}"`);
  }
  return raw;
}

function originHost(env: Env): string | undefined {
  const raw = str(env, 'CLOUDFLARE_ORIGIN_HOST');
  if (raw === undefined) return undefined;
  const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (!isHost(isIPv6(host) ? `[${host}]` : host.toLowerCase())) {
    throw new ConfigError('CLOUDFLARE_ORIGIN_HOST', `expected a host name or IP address that cloudflared can reach the gateway at, got "${raw}"`);
  }
  return isIPv6(host) ? host : host.toLowerCase();
}

function extraIngress(env: Env): ExtraIngressRule[] {
  const name = 'CLOUDFLARE_EXTRA_INGRESS';
  const raw = str(env, name);
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(name, `expected a JSON array of ingress rules, but it is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(name, 'expected a JSON array of ingress rules such as [{"hostname":"status.example.com","path":"^/health$","service":"http://127.0.0.1:4000"}]');
  parsed.forEach((rule, i) => {
    if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
      throw new ConfigError(`${name}[${i}]`, 'expected an object with hostname, path, service and originRequest');
    }
  });
  return parsed as ExtraIngressRule[];
}

/**
 * Parses the CLOUDFLARE_* variables. Values that are set are checked even when the tunnel is off,
 * so a typo shows before the day it is switched on; the required ones are required only when on.
 */
export function tunnelConfig(env: Env): TunnelConfig {
  const enabled = bool(env, 'CLOUDFLARE_ENABLED', false);
  const rawTunnelId = str(env, 'CLOUDFLARE_TUNNEL_ID');
  if (rawTunnelId !== undefined && !isUuid(rawTunnelId)) {
    throw new ConfigError(
      'CLOUDFLARE_TUNNEL_ID',
      `expected the tunnel's UUID as \`cloudflared tunnel list\` shows it (e.g. 6ff42ae2-765d-4adf-8112-31c55c1551ef), got "${rawTunnelId}"`,
    );
  }
  const tunnelId = rawTunnelId?.toLowerCase();
  const configFile = path(env, 'CLOUDFLARE_CONFIG_FILE', DEFAULT_CONFIG_FILE);
  const settings = {
    domain: domain(env),
    subdomain: label(env, 'CLOUDFLARE_SUBDOMAIN', 'db-api'),
    originHost: originHost(env),
    originRequest: {
      connectTimeout: duration(env, 'CLOUDFLARE_CONNECT_TIMEOUT', '30s'),
      tlsTimeout: duration(env, 'CLOUDFLARE_TLS_TIMEOUT', '10s'),
      keepAliveTimeout: duration(env, 'CLOUDFLARE_KEEPALIVE_TIMEOUT', '1m30s'),
    },
    database: {
      expose: bool(env, 'CLOUDFLARE_EXPOSE_DB', false),
      subdomain: label(env, 'CLOUDFLARE_DB_SUBDOMAIN', 'db'),
      connectTimeout: duration(env, 'CLOUDFLARE_DB_CONNECT_TIMEOUT', '10s'),
      tcpKeepAlive: duration(env, 'CLOUDFLARE_DB_TCP_KEEPALIVE', '30s'),
    },
    metrics: metrics(env),
    extraIngress: extraIngress(env),
  };
  if (!enabled) return { enabled: false, configFile };

  if (tunnelId === undefined) {
    throw new ConfigError('CLOUDFLARE_TUNNEL_ID', 'is required when CLOUDFLARE_ENABLED=true: the UUID printed by `cloudflared tunnel create <name>`');
  }
  if (settings.domain === undefined) {
    throw new ConfigError('CLOUDFLARE_DOMAIN', 'is required when CLOUDFLARE_ENABLED=true: the Cloudflare zone the hostnames live in, e.g. example.com');
  }
  if (settings.database.expose && settings.database.subdomain === settings.subdomain) {
    throw new ConfigError('CLOUDFLARE_DB_SUBDOMAIN', `must differ from CLOUDFLARE_SUBDOMAIN ("${settings.subdomain}"): the database and GraphQL need hostnames of their own`);
  }
  const credentialsFile = path(env, 'CLOUDFLARE_CREDENTIALS_FILE', join(homedir(), '.cloudflared', `${tunnelId}.json`));
  if (configFile === credentialsFile) {
    throw new ConfigError('CLOUDFLARE_CONFIG_FILE', `must not be the credentials file (${credentialsFile}): the gateway would overwrite the tunnel secret`);
  }
  return {
    enabled: true,
    tunnelId,
    credentialsFile,
    configFile,
    domain: settings.domain,
    subdomain: settings.subdomain,
    originHost: settings.originHost,
    originRequest: settings.originRequest,
    database: settings.database,
    metrics: settings.metrics,
    extraIngress: settings.extraIngress,
  };
}

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
    throw new ConfigError('CLOUDFLARE_EXPOSE_DB', 'the database is reached through a Unix socket; a tunnel TCP service needs a host:port (set DATABASE_URL to a TCP address, or turn CLOUDFLARE_EXPOSE_DB off)');
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
    graphql: { hostname: `${tunnel.subdomain}.${tunnel.domain}`, path: GRAPHQL_PATH, service: `http://${hostForUrl(originHost)}:${port}`,
      source: tunnel.originHost !== undefined ? 'CLOUDFLARE_ORIGIN_HOST' : 'HOST',
    },
    database,
    extraIngress: tunnel.extraIngress,
  };
}
