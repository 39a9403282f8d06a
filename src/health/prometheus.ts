import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Pool counters as the pg pool reports them. */
export interface PoolCounters {
  total: number;
  idle: number;
  waiting: number;
  max: number;
  min: number;
}

/** The gateway's own figures over one performance window. */
export interface GatewayWindow {
  requests: number;
  requestsPerSecond: number;
  /** p95 of request durations in the window, ms (0 when there were none). */
  p95LatencyMs: number;
  /** Requests failing on the server's side, percent of all (0 when there were none). */
  errorRatePercent: number;
  errors: number;
  seconds: number;
}

/** Codes that mean the gateway failed, not the client: they count toward the error rate. */
const SERVER_ERROR_CODES = new Set(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE']);
/** Distinct operation names kept as label values; beyond that they become "other" (bounded cardinality). */
const MAX_OPERATION_LABELS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** The window's latency buckets: from 0.01 ms to an hour, each 0.1 % wider than the one before. */
const BUCKET_FLOOR_MS = 0.01;
const BUCKET_STEP = Math.log1p(0.001);
const BUCKETS = Math.ceil(Math.log(3_600_000 / BUCKET_FLOOR_MS) / BUCKET_STEP) + 1;

/**
 * One performance window. Its p95 comes from counts of request durations in fine logarithmic
 * buckets (within 0.1 % of the true value, constant memory however busy the window): recording one
 * is an increment, where prom-client's Summary (a t-digest) cost ~1.5 % of a create's CPU.
 * /metrics exports the Histogram.
 */
function newWindow(started: number) {
  return { started, latency: new Uint32Array(BUCKETS), requests: 0, errors: 0 };
}

function bucketOf(ms: number): number {
  return ms <= BUCKET_FLOOR_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / BUCKET_FLOOR_MS) / BUCKET_STEP));
}

/** The 95th percentile (nearest rank, as its bucket's upper bound); 0 for an empty window. */
function p95Of(w: ReturnType<typeof newWindow>): number {
  const rank = Math.ceil(0.95 * w.requests);
  let seen = 0;
  for (let i = 0; i < BUCKETS && rank > 0; i++) {
    seen += w.latency[i];
    if (seen >= rank) return BUCKET_FLOOR_MS * Math.exp(i * BUCKET_STEP);
  }
  return 0;
}

/**
 * Prometheus metrics of one gateway, in a registry of its own (several gateways can share a process,
 * as in the tests), and the rolling window the health monitor samples.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly duration: Histogram<'operation' | 'outcome'>;
  private readonly dbResponse: Gauge;
  private readonly dbUp: Gauge;
  private readonly operations = new Set<string>();
  private window = newWindow(Date.now());

  constructor(pool: () => PoolCounters) {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL requests by operation name and outcome ("ok" or the first error code).',
      labelNames: ['operation', 'outcome'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'GraphQL request duration by operation name and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    const poolGauge = (name: string, help: string, read: (p: PoolCounters) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(pool()));
        },
      });
    poolGauge('db_pool_connections_total', 'Connections open in the pool.', (p) => p.total);
    poolGauge('db_pool_connections_idle', 'Open connections not in use.', (p) => p.idle);
    poolGauge('db_pool_connections_active', 'Connections in use.', (p) => p.total - p.idle);
    poolGauge('db_pool_requests_waiting', 'Requests queued for a connection.', (p) => p.waiting);
    poolGauge('db_pool_connections_max', 'DB_POOL_MAX.', (p) => p.max);
    this.dbResponse = new Gauge({
      name: 'db_response_time_seconds',
      help: 'Round trip of SELECT 1 at the latest health check (dedicated connection).',
      registers: [this.registry],
    });
    this.dbUp = new Gauge({
      name: 'db_up',
      help: '1 when the latest health check reached the database, else 0.',
      registers: [this.registry],
    });
  }

  /** Called once per GraphQL request when its response is sent. */
  observeRequest(operationName: string | null | undefined, errorCodes: string[], durationMs: number): void {
    const outcome = errorCodes[0] ?? 'ok';
    const labels = { operation: this.operationLabel(operationName), outcome: outcome.slice(0, 40) };
    this.requests.inc(labels);
    this.duration.observe(labels, durationMs / 1000);
    const w = this.window;
    w.latency[bucketOf(durationMs)] += 1;
    w.requests += 1;
    if (errorCodes.some((code) => SERVER_ERROR_CODES.has(code))) w.errors += 1;
  }

  /** Called after every database health check. */
  observeDatabase(connected: boolean, responseTimeMs: number | null): void {
    this.dbUp.set(connected ? 1 : 0);
    if (responseTimeMs !== null) this.dbResponse.set(responseTimeMs / 1000);
  }

  /** The figures since the previous call, and a new window. */
  async takeWindow(now = Date.now()): Promise<GatewayWindow> {
    const w = this.window;
    this.window = newWindow(now);
    const seconds = Math.max((now - w.started) / 1000, 0.001);
    return {
      requests: w.requests,
      requestsPerSecond: round(w.requests / seconds),
      p95LatencyMs: round(p95Of(w)),
      errorRatePercent: w.requests === 0 ? 0 : round((100 * w.errors) / w.requests),
      errors: w.errors,
      seconds: round(seconds),
    };
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (this.operations.has(name)) return name;
    if (this.operations.size >= MAX_OPERATION_LABELS) return 'other';
    this.operations.add(name);
    return name;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
