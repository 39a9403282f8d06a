import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * system_metrics partitioned by day on `timestamp` (declarative partitioning, no extension), with
 * per-minute and per-hour rollups kept by the INSERT that writes the samples (a statement trigger
 * reading the statement's transition table), and the functions the gateway calls to create
 * partitions ahead and to drop them past retention (src/metrics/metric.partitions.ts,
 * src/retention/). Everything lands: a DEFAULT partition takes a sample for a day with no partition.
 *
 * The primary key becomes (id, timestamp) (a partitioned table's unique keys must hold the
 * partition key), so `timestamp` is NOT NULL: a sample stored without one gets the migration's time.
 * An existing table is copied row for row (the copy builds the rollups); down() copies back.
 *
 * Percentiles from rollups come from a log-scale histogram (DDSketch's bins): a value v > 0 falls in
 * bin k = ceil(ln v / ln γ) with γ = (1 + α) / (1 − α), α = 0.02, and the bin stands for
 * 2γ^k / (γ + 1), within 2 % of every value of the bin; negatives mirror it, 0 has its own bin.
 * Bins are stored offset by ±1000 so that their order is the values' order. Rollups are kept per
 * dimension set (dims_key = md5 of its JSONB text) and once over all of them (dims_key = the nil UUID).
 */
export class MetricsPartitions1767200000000 implements MigrationInterface {
  name = 'MetricsPartitions1767200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE system_metrics IN ACCESS EXCLUSIVE MODE`);
    await q.query(`ALTER TABLE system_metrics RENAME TO system_metrics_unpartitioned`);
    await q.query(`ALTER TABLE system_metrics_unpartitioned RENAME CONSTRAINT system_metrics_pkey TO system_metrics_unpartitioned_pkey`);
    await q.query(`ALTER INDEX idx_system_metrics_name_timestamp RENAME TO idx_system_metrics_unpartitioned_name_timestamp`);
    await q.query(`
      CREATE TABLE system_metrics (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        metric_category VARCHAR(50) NOT NULL,
        metric_name VARCHAR(100) NOT NULL,
        metric_value DECIMAL(15,6) NOT NULL,
        metric_unit VARCHAR(20),
        dimensions JSONB DEFAULT '{}',
        timestamp TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        CONSTRAINT system_metrics_pkey PRIMARY KEY (id, timestamp)
      ) PARTITION BY RANGE (timestamp)`);
    await q.query(`CREATE INDEX idx_system_metrics_name_timestamp ON system_metrics(metric_name, timestamp)`);
    for (const grain of ['1m', '1h']) {
      await q.query(`
        CREATE TABLE system_metric_rollups_${grain} (
          metric_name VARCHAR(100) NOT NULL,
          bucket_start TIMESTAMP WITH TIME ZONE NOT NULL,
          dims_key UUID NOT NULL,
          dimensions JSONB NOT NULL,
          count BIGINT NOT NULL,
          sum NUMERIC NOT NULL,
          min DECIMAL(15,6) NOT NULL,
          max DECIMAL(15,6) NOT NULL,
          hist_bins INTEGER[] NOT NULL,
          hist_counts INTEGER[] NOT NULL,
          CONSTRAINT system_metric_rollups_${grain}_pkey PRIMARY KEY (metric_name, bucket_start, dims_key),
          CONSTRAINT system_metric_rollups_${grain}_count_check CHECK (count > 0 AND min <= max),
          CONSTRAINT system_metric_rollups_${grain}_hist_check CHECK (cardinality(hist_bins) = cardinality(hist_counts))
        ) PARTITION BY RANGE (bucket_start)`);
    }
    for (const table of PARTITIONED) await q.query(`CREATE TABLE ${table}_default PARTITION OF ${table} DEFAULT`);

    await q.query(`
      CREATE FUNCTION metric_hist_bin(v float8) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN v = 0 THEN 0
                    WHEN v > 0 THEN 1000 + ceil(ln(v) / ln(1.02 / 0.98))::integer
                    ELSE -(1000 + ceil(ln(-v) / ln(1.02 / 0.98))::integer) END $$`);
    await q.query(`
      CREATE FUNCTION metric_hist_value(bin integer) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN bin = 0 THEN 0::float8
                    ELSE sign(bin) * 2 * power(1.02 / 0.98, abs(bin) - 1000)::float8 / (1.02 / 0.98 + 1) END $$`);
    await q.query(`
      CREATE FUNCTION metric_hist_merge(a_bins integer[], a_counts integer[], b_bins integer[], b_counts integer[],
                                        OUT bins integer[], OUT counts integer[]) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT array_agg(bin ORDER BY bin), array_agg(n ORDER BY bin)
        FROM (SELECT bin, sum(n)::integer AS n
              FROM (SELECT * FROM unnest(a_bins, a_counts) UNION ALL SELECT * FROM unnest(b_bins, b_counts)) AS x(bin, n)
              GROUP BY bin) AS y $$`);
    // One upsert per grain per INSERT statement, whoever inserts (the API, the monitor, an agent's
    // own role): SECURITY DEFINER, like change_log_add.
    await q.query(`
      CREATE FUNCTION system_metrics_rollup() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $fn$
      BEGIN
        WITH per AS (
          SELECT metric_name AS n, coalesce(dimensions, '{}') AS d, date_bin('1 minute', timestamp, timestamptz 'epoch') AS b,
                 metric_hist_bin(metric_value::float8) AS k, count(*)::integer AS c, sum(metric_value) AS s,
                 min(metric_value) AS lo, max(metric_value) AS hi
          FROM new_rows GROUP BY 1, 2, 3, 4),
        binned AS (
          SELECT * FROM per
          UNION ALL -- d NULL: the metric over every dimension set (what a series without a filter reads)
          SELECT n, NULL, b, k, sum(c)::integer, sum(s), min(lo), max(hi) FROM per GROUP BY n, b, k),
        hourly AS (
          SELECT n, d, date_bin('1 hour', b, timestamptz 'epoch') AS b, k, sum(c)::integer AS c, sum(s) AS s, min(lo) AS lo, max(hi) AS hi
          FROM binned GROUP BY 1, 2, 3, 4),
        minutes AS (
          ${upsert('1m', 'binned')})
        ${upsert('1h', 'hourly')};
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE FUNCTION metrics_ensure_partitions(p_parent text, p_from date, p_to date) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $fn$
      DECLARE
        day date;
        part text;
        col text := CASE p_parent WHEN 'system_metrics' THEN 'timestamp' ELSE 'bucket_start' END;
        lo timestamptz;
        hi timestamptz;
        made integer := 0;
        busy boolean;
      BEGIN
        IF p_parent NOT IN (${PARTITIONED.map((t) => `'${t}'`).join(', ')}) THEN
          RAISE EXCEPTION 'metrics_ensure_partitions: % is not a partitioned metrics table', p_parent;
        END IF;
        FOR day IN SELECT generate_series(p_from, p_to, interval '1 day')::date LOOP
          part := p_parent || '_p' || to_char(day, 'YYYYMMDD');
          CONTINUE WHEN to_regclass(part) IS NOT NULL;
          lo := day::timestamp AT TIME ZONE 'UTC';
          hi := (day + 1)::timestamp AT TIME ZONE 'UTC';
          EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)', p_parent || '_default', col, col) INTO STRICT busy USING lo, hi;
          IF NOT busy THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, p_parent, lo, hi);
          ELSE
            -- Samples that landed in the default partition move into their day's (a move, not a
            -- change: the default partition's copy of the change-log trigger is off meanwhile).
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, p_parent);
            IF p_parent = 'system_metrics' THEN EXECUTE 'ALTER TABLE system_metrics_default DISABLE TRIGGER change_log_system_metrics'; END IF;
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
                           p_parent || '_default', col, col, part) USING lo, hi;
            IF p_parent = 'system_metrics' THEN EXECUTE 'ALTER TABLE system_metrics_default ENABLE TRIGGER change_log_system_metrics'; END IF;
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', p_parent, part, lo, hi);
          END IF;
          made := made + 1;
        END LOOP;
        RETURN made;
      END $fn$`);
    // Whole days strictly before p_before (UTC), dropped; returns the dropped partitions' names.
    await q.query(`
      CREATE FUNCTION metrics_drop_partitions(p_parent text, p_before date) RETURNS SETOF text
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $fn$
      DECLARE part text;
      BEGIN
        IF p_parent NOT IN (${PARTITIONED.map((t) => `'${t}'`).join(', ')}) THEN
          RAISE EXCEPTION 'metrics_drop_partitions: % is not a partitioned metrics table', p_parent;
        END IF;
        FOR part IN
          SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = p_parent::regclass AND c.relname ~ '_p[0-9]{8}$'
            AND to_date(right(c.relname, 8), 'YYYYMMDD') < p_before
          ORDER BY 1
        LOOP
          EXECUTE format('DROP TABLE %I', part);
          RETURN NEXT part;
        END LOOP;
      END $fn$`);
    for (const fn of ['metrics_ensure_partitions(text, date, date)', 'metrics_drop_partitions(text, date)', 'system_metrics_rollup()']) {
      await q.query(`REVOKE EXECUTE ON FUNCTION ${fn} FROM PUBLIC`);
    }

    // Partitions for every day holding samples, and for yesterday to a week ahead.
    await q.query(`
      SELECT metrics_ensure_partitions(t, day, day)
      FROM (SELECT DISTINCT (coalesce(timestamp, now()) AT TIME ZONE 'UTC')::date AS day FROM system_metrics_unpartitioned
            UNION SELECT generate_series(current_date - 1, current_date + 7, interval '1 day')::date) AS days,
           unnest(ARRAY[${PARTITIONED.map((t) => `'${t}'`).join(', ')}]) AS t`);
    await q.query(
      `CREATE TRIGGER system_metrics_rollup AFTER INSERT ON system_metrics REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION system_metrics_rollup()`,
    );
    await q.query(`
      INSERT INTO system_metrics (id, metric_category, metric_name, metric_value, metric_unit, dimensions, timestamp)
      SELECT id, metric_category, metric_name, metric_value, metric_unit, dimensions, coalesce(timestamp, now()) FROM system_metrics_unpartitioned`);
    await q.query(`DROP TABLE system_metrics_unpartitioned`);
    await q.query(
      `CREATE TRIGGER change_log_system_metrics AFTER INSERT OR UPDATE OR DELETE ON system_metrics FOR EACH ROW EXECUTE FUNCTION change_log_system_metrics()`,
    );
    await q.query(`
      CREATE TABLE audit_log_archive (
        id UUID NOT NULL,
        occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
        archived_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        entry JSONB NOT NULL,
        CONSTRAINT audit_log_archive_pkey PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX idx_audit_log_archive_occurred_at ON audit_log_archive(occurred_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log_archive`);
    await q.query(`LOCK TABLE system_metrics IN ACCESS EXCLUSIVE MODE`);
    await q.query(`
      CREATE TABLE system_metrics_unpartitioned (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        metric_category VARCHAR(50) NOT NULL,
        metric_name VARCHAR(100) NOT NULL,
        metric_value DECIMAL(15,6) NOT NULL,
        metric_unit VARCHAR(20),
        dimensions JSONB DEFAULT '{}',
        timestamp TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
        CONSTRAINT system_metrics_unpartitioned_pkey PRIMARY KEY (id)
      )`);
    await q.query(`INSERT INTO system_metrics_unpartitioned SELECT * FROM system_metrics`);
    for (const table of PARTITIONED) await q.query(`DROP TABLE ${table}`);
    await q.query(`ALTER TABLE system_metrics_unpartitioned RENAME TO system_metrics`);
    await q.query(`ALTER TABLE system_metrics RENAME CONSTRAINT system_metrics_unpartitioned_pkey TO system_metrics_pkey`);
    await q.query(`CREATE INDEX idx_system_metrics_name_timestamp ON system_metrics(metric_name, timestamp)`);
    await q.query(
      `CREATE TRIGGER change_log_system_metrics AFTER INSERT OR UPDATE OR DELETE ON system_metrics FOR EACH ROW EXECUTE FUNCTION change_log_system_metrics()`,
    );
    await q.query(`DROP FUNCTION metrics_drop_partitions(text, date)`);
    await q.query(`DROP FUNCTION metrics_ensure_partitions(text, date, date)`);
    await q.query(`DROP FUNCTION system_metrics_rollup()`);
    await q.query(`DROP FUNCTION metric_hist_merge(integer[], integer[], integer[], integer[])`);
    await q.query(`DROP FUNCTION metric_hist_value(integer)`);
    await q.query(`DROP FUNCTION metric_hist_bin(float8)`);
  }
}

/** dims_key of the rollup rows over every dimension set (src/metrics/metric.series.ts reads them when no filter is given). */
const ALL_DIMENSIONS = '00000000-0000-0000-0000-000000000000';

const PARTITIONED = ['system_metrics', 'system_metric_rollups_1m', 'system_metric_rollups_1h'];

/** The upsert of one grain's rollup rows from a CTE of (n, d, b, k, c, s, lo, hi) grouped by bin. */
function upsert(grain: string, from: string): string {
  return `INSERT INTO system_metric_rollups_${grain} AS r
            (metric_name, bucket_start, dims_key, dimensions, count, sum, min, max, hist_bins, hist_counts)
          SELECT n, b, coalesce(md5(d::text)::uuid, '${ALL_DIMENSIONS}'), coalesce(d, '{}'), sum(c), sum(s), min(lo), max(hi),
                 array_agg(k ORDER BY k), array_agg(c ORDER BY k)
          FROM ${from} GROUP BY n, d, b
          ON CONFLICT (metric_name, bucket_start, dims_key) DO UPDATE SET
            count = r.count + excluded.count, sum = r.sum + excluded.sum,
            min = least(r.min, excluded.min), max = greatest(r.max, excluded.max),
            (hist_bins, hist_counts) = (SELECT m.bins, m.counts FROM metric_hist_merge(r.hist_bins, r.hist_counts, excluded.hist_bins, excluded.hist_counts) AS m)`;
}
