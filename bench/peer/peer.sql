-- What PostGraphile needs beyond the gateway's own schema to answer the `series` shape: a metric's
-- samples in fixed buckets, with count, avg, min, max and two percentiles. It lives in its own
-- schema, bench_peer, so the gateway's tables and migrations stay as they are; PostGraphile exposes
-- it as the root field `metricSeries(name, from, to, bucket)`. Apply with:
--   psql "$DATABASE_URL" -f bench/peer/peer.sql
CREATE SCHEMA IF NOT EXISTS bench_peer;

DROP FUNCTION IF EXISTS bench_peer.metric_series(text, timestamptz, timestamptz, interval);
DROP TYPE IF EXISTS bench_peer.metric_bucket;
CREATE TYPE bench_peer.metric_bucket AS (
  start timestamptz,
  count integer,
  avg double precision,
  min double precision,
  max double precision,
  p50 double precision,
  p95 double precision
);

CREATE FUNCTION bench_peer.metric_series(name text, "from" timestamptz, "to" timestamptz, bucket interval)
RETURNS SETOF bench_peer.metric_bucket
LANGUAGE sql STABLE
AS $$
  SELECT date_bin(bucket, m.timestamp, "from") AS start,
         count(*)::integer,
         avg(m.metric_value)::double precision,
         min(m.metric_value)::double precision,
         max(m.metric_value)::double precision,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY m.metric_value)::double precision,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY m.metric_value)::double precision
    FROM public.system_metrics m
   WHERE m.metric_name = name AND m.timestamp >= "from" AND m.timestamp < "to"
   GROUP BY 1
   ORDER BY 1
$$;

-- PostGraphile prefixes functions of a second schema with its name (benchPeerMetricSeries); the smart
-- tag names the root field like the gateway's.
COMMENT ON FUNCTION bench_peer.metric_series(text, timestamptz, timestamptz, interval) IS E'@name metric_series';
