import { ConfigError, int, str, type Env } from '../config';

/** GraphQL subscriptions over graphql-ws (src/subscriptions/): SUBSCRIPTION_* variables. */
export interface SubscriptionsConfig {
  /** How far back `after: cursor` can replay; older change-log rows are deleted (hours). */
  replayHours: number;
  /** WebSockets one token (or JWT subject) may hold open on one instance. */
  maxSocketsPerToken: number;
  /** Subscriptions running at once on one WebSocket. */
  maxPerSocket: number;
  /** A socket whose send buffer (ws bufferedAmount) passes this many bytes is closed (slow consumer). */
  maxBufferedBytes: number;
  /** Events queued for one subscription; past it, it catches up from the change log (a slow consumer if still behind after 30 s). */
  maxQueuedEvents: number;
  /** ms between keep-alive pings (0: none); a socket that does not answer within as long is dropped. */
  keepAliveMs: number;
  /** ms a socket may stay open without a connection_init. */
  initTimeoutMs: number;
  /** ms between reads of the change log while this instance has a live subscription (none while it has none). */
  pollMs: number;
  /** Origins (scheme://host[:port]) allowed besides the gateway's own, for browser clients. */
  allowedOrigins: string[];
}

export function subscriptionsConfig(env: Env): SubscriptionsConfig {
  const origins = (str(env, 'SUBSCRIPTION_ALLOWED_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError('SUBSCRIPTION_ALLOWED_ORIGINS', `"${origin}" is not an origin: give scheme://host[:port], comma-separated`);
    }
    if (parsed.origin !== origin.replace(/\/$/, '')) throw new ConfigError('SUBSCRIPTION_ALLOWED_ORIGINS', `"${origin}" is not an origin: give scheme://host[:port] without a path`);
  }
  return {
    replayHours: int(env, 'SUBSCRIPTION_REPLAY_HOURS', 24, 1, 24 * 90),
    maxSocketsPerToken: int(env, 'SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN', 20, 1, 100_000),
    maxPerSocket: int(env, 'SUBSCRIPTION_MAX_PER_SOCKET', 50, 1, 10_000),
    maxBufferedBytes: int(env, 'SUBSCRIPTION_MAX_BUFFERED_BYTES', 1_048_576, 1_024, 1_073_741_824),
    maxQueuedEvents: int(env, 'SUBSCRIPTION_MAX_QUEUED_EVENTS', 1_000, 10, 1_000_000),
    keepAliveMs: int(env, 'SUBSCRIPTION_KEEPALIVE_MS', 12_000, 0, 3_600_000),
    initTimeoutMs: int(env, 'SUBSCRIPTION_INIT_TIMEOUT_MS', 5_000, 100, 600_000),
    pollMs: int(env, 'SUBSCRIPTION_POLL_MS', 50, 10, 10_000),
    allowedOrigins: origins.map((o) => o.replace(/\/$/, '')),
  };
}
