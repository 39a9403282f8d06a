/**
 * The Cloudflare tunnel section of the configuration: environment -> a typed `TunnelConfig`. Pure;
 * errors name the variable. src/tunnel/plan.ts resolves it further once the gateway's port is known.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Reader } from './reader';
import { isDnsLabel, isDnsName, isHost, isIPv6, isUuid, parseGoDuration, splitHostPort } from './syntax';
import { ConfigError } from './variable';
import { VARIABLES } from './variables';

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

type DurationName =
  | 'CLOUDFLARE_CONNECT_TIMEOUT'
  | 'CLOUDFLARE_TLS_TIMEOUT'
  | 'CLOUDFLARE_KEEPALIVE_TIMEOUT'
  | 'CLOUDFLARE_DB_CONNECT_TIMEOUT'
  | 'CLOUDFLARE_DB_TCP_KEEPALIVE';

/** A positive Go duration (`30s`, `1m30s`); a bare number or a negative value names the variable. */
function duration(r: Reader, name: DurationName): string {
  const raw = r.text(name)!;
  const ns = parseGoDuration(raw);
  if (ns === undefined) {
    const hint = /^-?\d+(\.\d+)?$/.test(raw) ? ` (a number needs a unit: "${raw}s")` : '';
    throw new ConfigError(name, `expected a duration such as 30s, 1m30s or 500ms, got "${raw}"${hint}`);
  }
  if (ns <= 0) throw new ConfigError(name, `expected a duration greater than zero, got "${raw}"`);
  return raw;
}

function path(name: 'CLOUDFLARE_CONFIG_FILE' | 'CLOUDFLARE_CREDENTIALS_FILE', raw: string): string {
  if (raw.includes('\0')) throw new ConfigError(name, 'expected a file path');
  return isAbsolute(raw) ? raw : resolve(raw);
}

function domain(r: Reader): string | undefined {
  const raw = r.text('CLOUDFLARE_DOMAIN');
  if (raw === undefined) return undefined;
  const name = 'CLOUDFLARE_DOMAIN';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw))
    throw new ConfigError(name, `expected a bare domain such as example.com, without a scheme; got "${raw}"`);
  if (raw.includes('/')) throw new ConfigError(name, `expected a bare domain such as example.com, without a path; got "${raw}"`);
  if (/:\d*$/.test(raw))
    throw new ConfigError(name, `expected a bare domain such as example.com, without a port (the tunnel serves 443); got "${raw}"`);
  if (raw.includes('*')) throw new ConfigError(name, `expected a domain, not a wildcard; got "${raw}"`);
  if (raw.endsWith('.')) throw new ConfigError(name, `expected a domain without the trailing dot; got "${raw}"`);
  const value = raw.toLowerCase();
  if (!isDnsName(value)) {
    throw new ConfigError(
      name,
      `expected a DNS name of your Cloudflare zone such as example.com (letters, digits, hyphens, at least two labels); got "${raw}"`,
    );
  }
  return value;
}

/** One DNS label: Cloudflare's Universal SSL certificate covers `*.<domain>`, not deeper names. */
function label(r: Reader, name: 'CLOUDFLARE_SUBDOMAIN' | 'CLOUDFLARE_DB_SUBDOMAIN'): string {
  const fallback = VARIABLES[name].default;
  const raw = r.raw(name);
  if (raw === undefined) return fallback;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw))
    throw new ConfigError(name, `expected one DNS label such as ${fallback}, without a scheme; got "${raw}"`);
  if (raw.includes(':'))
    throw new ConfigError(name, `expected one DNS label such as ${fallback}, without a port (the tunnel serves 443); got "${raw}"`);
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

function metrics(r: Reader): string | undefined {
  const raw = r.text('CLOUDFLARE_METRICS')!;
  if (['off', 'false', 'none'].includes(raw.toLowerCase())) return undefined;
  if (!splitHostPort(raw)) {
    throw new ConfigError(
      'CLOUDFLARE_METRICS',
      `expected host:port such as ${VARIABLES.CLOUDFLARE_METRICS.default} (or "off"), got "${raw}"`,
    );
  }
  return raw;
}

function originHost(r: Reader): string | undefined {
  const raw = r.text('CLOUDFLARE_ORIGIN_HOST');
  if (raw === undefined) return undefined;
  const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (!isHost(isIPv6(host) ? `[${host}]` : host.toLowerCase())) {
    throw new ConfigError(
      'CLOUDFLARE_ORIGIN_HOST',
      `expected a host name or IP address that cloudflared can reach the gateway at, got "${raw}"`,
    );
  }
  return isIPv6(host) ? host : host.toLowerCase();
}

function extraIngress(r: Reader): ExtraIngressRule[] {
  const name = 'CLOUDFLARE_EXTRA_INGRESS';
  const raw = r.text(name)!;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(name, `expected a JSON array of ingress rules, but it is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed))
    throw new ConfigError(
      name,
      'expected a JSON array of ingress rules such as [{"hostname":"status.example.com","path":"^/health$","service":"http://127.0.0.1:4000"}]',
    );
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
export function tunnelConfig(r: Reader): TunnelConfig {
  const enabled = r.bool('CLOUDFLARE_ENABLED');
  const rawTunnelId = r.text('CLOUDFLARE_TUNNEL_ID');
  if (rawTunnelId !== undefined && !isUuid(rawTunnelId)) {
    throw new ConfigError(
      'CLOUDFLARE_TUNNEL_ID',
      `expected the tunnel's UUID as \`cloudflared tunnel list\` shows it (e.g. 6ff42ae2-765d-4adf-8112-31c55c1551ef), got "${rawTunnelId}"`,
    );
  }
  const tunnelId = rawTunnelId?.toLowerCase();
  const configFile = path('CLOUDFLARE_CONFIG_FILE', r.text('CLOUDFLARE_CONFIG_FILE')!);
  const settings = {
    domain: domain(r),
    subdomain: label(r, 'CLOUDFLARE_SUBDOMAIN'),
    originHost: originHost(r),
    originRequest: {
      connectTimeout: duration(r, 'CLOUDFLARE_CONNECT_TIMEOUT'),
      tlsTimeout: duration(r, 'CLOUDFLARE_TLS_TIMEOUT'),
      keepAliveTimeout: duration(r, 'CLOUDFLARE_KEEPALIVE_TIMEOUT'),
    },
    database: {
      expose: r.bool('CLOUDFLARE_EXPOSE_DB'),
      subdomain: label(r, 'CLOUDFLARE_DB_SUBDOMAIN'),
      connectTimeout: duration(r, 'CLOUDFLARE_DB_CONNECT_TIMEOUT'),
      tcpKeepAlive: duration(r, 'CLOUDFLARE_DB_TCP_KEEPALIVE'),
    },
    metrics: metrics(r),
    extraIngress: extraIngress(r),
  };
  if (!enabled) return { enabled: false, configFile };

  if (tunnelId === undefined) {
    throw new ConfigError(
      'CLOUDFLARE_TUNNEL_ID',
      'is required when CLOUDFLARE_ENABLED=true: the UUID printed by `cloudflared tunnel create <name>`',
    );
  }
  if (settings.domain === undefined) {
    throw new ConfigError(
      'CLOUDFLARE_DOMAIN',
      'is required when CLOUDFLARE_ENABLED=true: the Cloudflare zone the hostnames live in, e.g. example.com',
    );
  }
  if (settings.database.expose && settings.database.subdomain === settings.subdomain) {
    throw new ConfigError(
      'CLOUDFLARE_DB_SUBDOMAIN',
      `must differ from CLOUDFLARE_SUBDOMAIN ("${settings.subdomain}"): the database and GraphQL need hostnames of their own`,
    );
  }
  const credentialsFile = path(
    'CLOUDFLARE_CREDENTIALS_FILE',
    r.text('CLOUDFLARE_CREDENTIALS_FILE') ?? join(homedir(), '.cloudflared', `${tunnelId}.json`),
  );
  if (configFile === credentialsFile) {
    throw new ConfigError(
      'CLOUDFLARE_CONFIG_FILE',
      `must not be the credentials file (${credentialsFile}): the gateway would overwrite the tunnel secret`,
    );
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
