import type { Reader } from './reader';

/** Webhooks (src/webhooks/): WEBHOOK_* variables. */
export interface WebhooksConfig {
  /** This instance queues and sends deliveries. */
  dispatch: boolean;
  /** Allow receivers on loopback, private, link-local, metadata and unspecified addresses. */
  allowPrivateUrls: boolean;
  /** Allow http:// URLs. */
  allowHttp: boolean;
  pollMs: number;
  /** Retry n waits retryBaseMs x 5^(n-1), capped at retryBaseMs x 7200, with +-20 % jitter. */
  retryBaseMs: number;
  /** Retries after the first attempt. */
  retryAttempts: number;
  connectTimeoutMs: number;
  timeoutMs: number;
  concurrency: number;
  retentionHours: number;
}

export function webhooksConfig(r: Reader): WebhooksConfig {
  return {
    dispatch: r.bool('WEBHOOK_DISPATCH_ENABLED'),
    allowPrivateUrls: r.bool('WEBHOOK_ALLOW_PRIVATE_URLS'),
    allowHttp: r.bool('WEBHOOK_ALLOW_HTTP'),
    pollMs: r.int('WEBHOOK_POLL_MS'),
    retryBaseMs: r.int('WEBHOOK_RETRY_BASE_MS'),
    retryAttempts: r.int('WEBHOOK_RETRY_ATTEMPTS'),
    connectTimeoutMs: r.int('WEBHOOK_CONNECT_TIMEOUT_MS'),
    timeoutMs: r.int('WEBHOOK_TIMEOUT_MS'),
    concurrency: r.int('WEBHOOK_CONCURRENCY'),
    retentionHours: r.int('WEBHOOK_DELIVERY_RETENTION_HOURS'),
  };
}
