import type { Reader } from './reader';
import { originList } from './origins';

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

export function subscriptionsConfig(r: Reader): SubscriptionsConfig {
  return {
    replayHours: r.int('SUBSCRIPTION_REPLAY_HOURS'),
    maxSocketsPerToken: r.int('SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN'),
    maxPerSocket: r.int('SUBSCRIPTION_MAX_PER_SOCKET'),
    maxBufferedBytes: r.int('SUBSCRIPTION_MAX_BUFFERED_BYTES'),
    maxQueuedEvents: r.int('SUBSCRIPTION_MAX_QUEUED_EVENTS'),
    keepAliveMs: r.int('SUBSCRIPTION_KEEPALIVE_MS'),
    initTimeoutMs: r.int('SUBSCRIPTION_INIT_TIMEOUT_MS'),
    pollMs: r.int('SUBSCRIPTION_POLL_MS'),
    allowedOrigins: originList(r, 'SUBSCRIPTION_ALLOWED_ORIGINS'),
  };
}
