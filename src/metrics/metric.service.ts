import { In, type DataSource } from 'typeorm';
import { auditedStatement, insertedRows, writtenTable, type WrittenTable } from '../audit/audited-statement';
import { runWrite } from '../db/writes';
import type { IdempotencyRequest, IdempotencyService } from '../idempotency/idempotency.service';
import type { RequestScope } from '../request';
import { BadInputError } from '../errors';
import type { JSONObject } from '../graphql/scalars';
import { query } from '../db/rows';
import { Params, preparedQuery } from '../db/sql';
import { SystemMetric } from './metric.entity';
import { METRIC_VALUE_LIMIT, type MetricInput } from './metric.inputs';
import { checkSeries, seriesStatement, type MetricBucket, type SeriesQuery } from './metric.series';

/** Rows one recordMetrics call may insert (in one statement). */
export const MAX_METRICS_PER_CALL = 10_000;

/** One figure the gateway records about itself. */
export type SystemSample = Pick<SystemMetric, 'category' | 'name' | 'value' | 'unit'>;

export class MetricService {
  private written?: WrittenTable;

  constructor(
    private readonly db: DataSource,
    private readonly idempotency: IdempotencyService,
    /** For a list asked without first (GRAPHQL_DEFAULT_PAGE_SIZE). */
    private readonly defaultPageSize: number,
  ) {}

  private get table(): WrittenTable {
    return (this.written ??= writtenTable(this.db, SystemMetric, 'system_metric'));
  }

  findByIds(ids: readonly string[]): Promise<SystemMetric[]> {
    return this.db.getRepository(SystemMetric).findBy({ id: In([...ids]) });
  }

  list(first: number | null | undefined, name?: string): Promise<SystemMetric[]> {
    return this.db.getRepository(SystemMetric).find({
      where: name ? { name } : {},
      order: { timestamp: 'DESC', id: 'DESC' },
      take: first ?? this.defaultPageSize,
    });
  }

  /** One audited INSERT. */
  async record(scope: RequestScope, input: MetricInput, idempotency?: IdempotencyRequest): Promise<SystemMetric> {
    validateMetric(input, 0, 'input');
    const p = new Params();
    const ts = input.timestamp ? `${p.add(input.timestamp.toISOString())}::timestamptz` : 'now()';
    const statement = auditedStatement(scope, this.table, {
      kind: 'insert',
      operation: 'recordMetric',
      insert: `INSERT INTO system_metrics AS w (metric_category, metric_name, metric_value, metric_unit, dimensions, timestamp)
        VALUES (${p.add(input.category)}, ${p.add(input.name)}, ${p.add(String(input.value))}::numeric, ${p.add(input.unit ?? null)}, ${p.json(input.dimensions ?? {})}, ${ts})`,
      params: p,
    });
    return this.idempotency.once(scope, idempotency, input, async (query) => {
      const [metric] = insertedRows<SystemMetric>(await runWrite(query, statement));
      return { ...metric, value: Number(metric.value) };
    });
  }

  /**
   * Up to 10,000 samples in ONE INSERT: the columns travel as six arrays through `unnest`, so the
   * statement has six parameters whatever the row count, and either every row lands or none.
   */
  async recordMany(scope: RequestScope, inputs: MetricInput[], idempotency?: IdempotencyRequest): Promise<number> {
    if (inputs.length > MAX_METRICS_PER_CALL) {
      throw new BadInputError('input', `at most ${MAX_METRICS_PER_CALL} metrics per call, got ${inputs.length}; split the batch`);
    }
    inputs.forEach((m, i) => validateMetric(m, i));
    if (inputs.length === 0) return 0;
    const p = new Params();
    const cols = [
      p.add(inputs.map((m) => m.category)) + '::text[]',
      p.add(inputs.map((m) => m.name)) + '::text[]',
      p.add(inputs.map((m) => String(m.value))) + '::numeric[]',
      p.add(inputs.map((m) => m.unit ?? null)) + '::text[]',
      p.add(inputs.map((m) => JSON.stringify(m.dimensions ?? {}))) + '::jsonb[]',
      p.add(inputs.map((m) => (m.timestamp ? m.timestamp.toISOString() : null))) + '::timestamptz[]',
    ];
    // One audit row for the batch (its size), written by the same statement.
    const statement = auditedStatement(scope, this.table, {
      kind: 'insert',
      operation: 'recordMetrics',
      insert: `INSERT INTO system_metrics AS w (metric_category, metric_name, metric_value, metric_unit, dimensions, timestamp)
         SELECT c, n, v, u, d, coalesce(ts, now()) FROM unnest(${cols.join(', ')}) AS x(c, n, v, u, d, ts)`,
      params: p,
      summarize: true,
      select: 'SELECT count(*)::int AS count FROM changed',
    });
    return this.idempotency.once(scope, idempotency, inputs, async (query) => Number((await runWrite(query, statement))[0].count));
  }

  /**
   * The gateway's own samples (src/health/monitor.ts), in one INSERT: no caller, so neither audited
   * nor idempotent, like any other bookkeeping the gateway does for itself.
   */
  async recordSystemSamples(samples: SystemSample[], dimensions: JSONObject, timestamp = new Date()): Promise<void> {
    if (samples.length === 0) return;
    const repo = this.db.getRepository(SystemMetric);
    await repo.insert(samples.map((s) => repo.create({ ...s, dimensions, timestamp })));
  }

  /** Buckets aligned on `from`, aggregated in SQL (raw samples or rollups: seriesStatement); only buckets holding samples. */
  async series(q: SeriesQuery, fields: ReadonlySet<string>): Promise<MetricBucket[]> {
    const { sql, params } = seriesStatement(q, checkSeries(q.from, q.to, q.bucket), fields);
    // Prepared: a statement over ~30 partitions costs milliseconds to plan; its texts are few (one per selection and shape).
    return preparedQuery(this.db)<MetricBucket>(sql, params);
  }

  /** Distinct metric names, optionally of one category, sorted. */
  async names(category?: string | null): Promise<string[]> {
    const rows =
      category != null
        ? await query<{ name: string }>(
            this.db,
            `SELECT DISTINCT metric_name AS name FROM system_metrics WHERE metric_category = $1 ORDER BY 1`,
            [category],
          )
        : // A loose index scan over (metric_name, timestamp): one probe per name, not a pass over every sample.
          await query<{ name: string }>(
            this.db,
            `WITH RECURSIVE names(name) AS (
               (SELECT metric_name FROM system_metrics ORDER BY metric_name LIMIT 1)
               UNION ALL
               SELECT (SELECT metric_name FROM system_metrics WHERE metric_name > n.name ORDER BY metric_name LIMIT 1) FROM names n WHERE n.name IS NOT NULL
             ) SELECT name FROM names WHERE name IS NOT NULL`,
          );
    return rows.map((r) => r.name);
  }

  async categories(): Promise<string[]> {
    const rows = await query<{ category: string }>(this.db, `SELECT DISTINCT metric_category AS category FROM system_metrics ORDER BY 1`);
    return rows.map((r) => r.category);
  }
}

/** What DECIMAL(15,6) and the varchar lengths accept, checked before anything is sent. */
function validateMetric(m: MetricInput, i: number, path = `input[${i}]`): void {
  const bad = (field: string, why: string) => new BadInputError(`${path}.${field}`, why, { index: i });
  if (!Number.isFinite(m.value) || Math.abs(m.value) > METRIC_VALUE_LIMIT)
    throw bad('value', `must be a finite number within ±${METRIC_VALUE_LIMIT}`);
  if (!/\S/.test(m.name) || m.name.length > 100) throw bad('name', 'must be 1 to 100 characters, not blank');
  if (!/\S/.test(m.category) || m.category.length > 50) throw bad('category', 'must be 1 to 50 characters, not blank');
  if (m.unit != null && m.unit.length > 20) throw bad('unit', 'must be at most 20 characters');
}
