/**
 * The benchmark data set: its default sizes, its fixed clock, and the SQL that generates it. The SQL
 * draws every "random" value from md5 of the row number, so the same sizes give the same rows, ids
 * included, on every run and every machine. Nothing here touches the network or reads the
 * environment; `bench/seed.ts` is the command around it.
 */
import { createHash } from 'node:crypto';

export interface SeedSizes {
  tasks: number;
  /** Share of tasks that are subtasks, in percent (every round(100 / percent)-th task is one). */
  subtaskPercent: number;
  executionsPerTask: number;
  integrations: number;
  metrics: number;
  metricNames: number;
  /** The metrics span this many days, ending at ANCHOR. */
  days: number;
}

export const DEFAULT_SIZES: SeedSizes = {
  tasks: 20_000,
  subtaskPercent: 10,
  executionsPerTask: 5,
  integrations: 20,
  metrics: 500_000,
  metricNames: 20,
  days: 30,
};

/**
 * The seeded data's clock, whatever day the seed runs: tasks and metrics lie before it, executions a
 * few minutes after their task. Rows the benchmark itself creates get the real time, which is later:
 * they come first in a "newest first" page, so re-seed between runs that include `create`.
 */
export const ANCHOR = '2026-01-01T00:00:00Z';

/** Metric names the series shape can ask for; the first `metricNames` of them are seeded. */
export const METRIC_NAMES = [
  'gateway.request_ms',
  'gateway.requests',
  'gateway.errors',
  'db.pool_active',
  'db.pool_idle',
  'db.pool_waiting',
  'db.query_ms',
  'agent.run_ms',
  'agent.tokens',
  'agent.failures',
  'queue.depth',
  'queue.wait_ms',
  'ci.build_ms',
  'ci.test_ms',
  'ci.failures',
  'github.api_calls',
  'linear.api_calls',
  'claude.latency_ms',
  'codegen.latency_ms',
  'host.cpu_pct',
  'host.mem_pct',
  'host.disk_pct',
  'host.net_in',
  'host.net_out',
];

/**
 * The id the seed gives the row with this key: md5 of the key shaped as a version-4 UUID (version
 * nibble 4, variant 8), so strict UUID validators accept it. Same as the SQL of `uuidSql`.
 */
export function seededUuid(key: string): string {
  const md5 = createHash('md5').update(key).digest('hex');
  const hex = `${md5.slice(0, 12)}4${md5.slice(13, 16)}8${md5.slice(17)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id of seeded task number n (1-based). */
export function taskId(n: number): string {
  return seededUuid(`bench-task-${n}`);
}

/** Every `subtaskStride`-th task is a subtask of one of the nine tasks before it. */
export function subtaskStride(sizes: Pick<SeedSizes, 'subtaskPercent'>): number {
  return sizes.subtaskPercent <= 0 ? 0 : Math.max(2, Math.round(100 / sizes.subtaskPercent));
}

/** A whole number in [0, mod) drawn from md5 of a SQL text expression: the same input, the same number. */
function h(expr: string, mod: number): string {
  return `((('x' || substr(md5(${expr}), 1, 8))::bit(32)::bigint & 2147483647) % ${mod})`;
}

function uuidSql(keyExpr: string): string {
  return `overlay(overlay(md5(${keyExpr}) placing '4' from 13) placing '8' from 17)::uuid`;
}

function pick(values: readonly string[], index: string): string {
  return `(ARRAY[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')}])[1 + (${index})::int]`;
}

const TASK_TYPES = ['general', 'bugfix', 'feature', 'refactor', 'docs', 'infra'];
// Weighted: 30 % pending, 20 % in progress, 35 % completed, 10 % failed, 5 % cancelled.
const TASK_STATUS_20 = [
  'pending',
  'pending',
  'pending',
  'pending',
  'pending',
  'pending',
  'in_progress',
  'in_progress',
  'in_progress',
  'in_progress',
  'completed',
  'completed',
  'completed',
  'completed',
  'completed',
  'completed',
  'completed',
  'failed',
  'failed',
  'cancelled',
];
const AGENTS = ['codegen', 'claude', 'github-actions', 'linear-bot', 'reviewer'];
const EXEC_STATUS_10 = [
  'succeeded',
  'succeeded',
  'succeeded',
  'succeeded',
  'succeeded',
  'failed',
  'failed',
  'running',
  'pending',
  'cancelled',
];
const ASSIGNEES = ['agent-alpha', 'agent-beta', 'agent-gamma', 'agent-delta', 'ci-runner'];
const INTEGRATION_TYPES = ['codegen', 'github', 'linear', 'claude', 'custom'];
const CATEGORIES = ['gateway', 'database', 'agent', 'queue', 'ci', 'integration', 'host'];

/**
 * The statements that fill an empty (or emptied) bench database, in order. Tasks come in two
 * statements, parents first, so a subtask's parent always exists.
 */
export function seedStatements(sizes: SeedSizes): string[] {
  const T = sizes.tasks;
  const stride = subtaskStride(sizes);
  const spanSeconds = 86_400 * sizes.days;
  // Tasks are spread evenly over the span, task 1 oldest, task T just before the anchor.
  const taskColumns = (isSubtask: boolean) => `
    SELECT ${uuidSql(`'bench-task-' || n`)},
      'Task ' || n || ': ' || ${pick(['fix', 'add', 'refactor', 'document', 'test', 'speed up', 'review', 'migrate'], h(`'verb' || n`, 8))}
        || ' ' || ${pick(['login flow', 'billing', 'search', 'webhooks', 'dashboard', 'CI cache', 'API docs', 'metrics'], h(`'noun' || n`, 8))},
      'Generated benchmark task number ' || n || '.',
      ${pick(TASK_TYPES, h(`'type' || n`, TASK_TYPES.length))},
      ${pick(TASK_STATUS_20, h(`'status' || n`, 20))},
      ${h(`'priority' || n`, 101)}::int,
      1 + ${h(`'complexity' || n`, 10)}::int,
      jsonb_build_object('language', ${pick(['typescript', 'python', 'go', 'sql'], h(`'lang' || n`, 4))}, 'tests', ${h(`'tests' || n`, 2)} = 1, 'estimate_hours', 1 + ${h(`'est' || n`, 16)}),
      jsonb_build_array('builds', 'tests pass'),
      ${isSubtask ? uuidSql(`'bench-task-' || (n - 1 - ${h(`'parent' || n`, stride - 1)})`) : 'NULL::uuid'},
      CASE WHEN ${h(`'assigned' || n`, 4)} = 0 THEN NULL ELSE ${pick(ASSIGNEES, h(`'assignee' || n`, ASSIGNEES.length))} END,
      t.created,
      t.created + interval '1 hour',
      NULL::timestamptz,
      jsonb_build_object('source', 'bench', 'n', n)
    FROM generate_series(1, ${T}) AS n,
      LATERAL (SELECT timestamptz '${ANCHOR}' - make_interval(secs => ${spanSeconds}::float8 * (${T} - n + 1) / ${T}) AS created) AS t
    WHERE ${stride === 0 ? (isSubtask ? 'false' : 'true') : `(n % ${stride} ${isSubtask ? '=' : '<>'} 0)`}`;
  const taskInsert = `INSERT INTO tasks (id, title, description, type, status, priority, complexity_score, requirements,
      acceptance_criteria, parent_task_id, assigned_to, created_at, updated_at, completed_at, metadata)`;

  return [
    `${taskInsert} ${taskColumns(false)}`,
    `${taskInsert} ${taskColumns(true)}`,
    `UPDATE tasks SET completed_at = updated_at WHERE status IN ('completed', 'failed', 'cancelled')`,
    // Executions: a few minutes apart after their task's creation, each with a log of three entries.
    `INSERT INTO task_executions (id, task_id, agent_type, agent_config, status, log_count, error_details, started_at, completed_at, created_at)
     SELECT ${uuidSql(`'bench-exec-' || n || '-' || k`)},
       ${uuidSql(`'bench-task-' || n`)},
       ${pick(AGENTS, h(`'agent' || n || '-' || k`, AGENTS.length))},
       jsonb_build_object('model', 'm' || ${h(`'model' || n || '-' || k`, 3)}, 'timeout_s', 600),
       s.status,
       3,
       CASE WHEN s.status = 'failed' THEN jsonb_build_object('reason', 'exit code 1') END,
       CASE WHEN s.status <> 'pending' THEN e.created END,
       CASE WHEN s.status IN ('succeeded', 'failed', 'cancelled') THEN e.created + interval '60 seconds' END,
       e.created
     FROM generate_series(1, ${T}) AS n
       CROSS JOIN generate_series(1, ${sizes.executionsPerTask}) AS k,
       LATERAL (SELECT timestamptz '${ANCHOR}' - make_interval(secs => ${spanSeconds}::float8 * (${T} - n + 1) / ${T}) + make_interval(mins => 5 * k) AS created) AS e,
       -- One SUCCEEDED execution per task at most (uq_task_executions_one_success): only the last attempt may succeed.
       LATERAL (SELECT ${pick(EXEC_STATUS_10, h(`'exec' || n || '-' || k`, 10))} AS status) AS s0,
       LATERAL (SELECT CASE WHEN s0.status = 'succeeded' AND k < ${sizes.executionsPerTask} THEN 'failed' ELSE s0.status END AS status) AS s`,
    `INSERT INTO execution_log_entries (execution_id, seq, at, level, message)
     SELECT e.id, m.seq, e.created_at + m.seq * interval '30 seconds',
       CASE WHEN m.seq = 2 AND e.status = 'failed' THEN 'error' ELSE 'info' END,
       CASE m.seq WHEN 0 THEN 'started' WHEN 1 THEN 'ran ' || (1 + ${h(`e.id::text`, 40)}) || ' steps' ELSE 'finished: ' || e.status END
     FROM task_executions e CROSS JOIN generate_series(0, 2) AS m(seq)`,
    `INSERT INTO external_integrations (id, integration_type, integration_name, configuration, status, health_status, rate_limit_per_minute, created_at, updated_at)
     SELECT ${uuidSql(`'bench-integration-' || n`)},
       ${pick(INTEGRATION_TYPES, `((n - 1) % ${INTEGRATION_TYPES.length})`)},
       'bench-integration-' || n,
       jsonb_build_object('endpoint', 'https://example.invalid/' || n, 'token', 'not-a-secret-' || n),
       CASE WHEN n % 7 = 0 THEN 'disabled' ELSE 'active' END,
       ${pick(['healthy', 'healthy', 'degraded', 'unknown'], `(n % 4)`)},
       60 * (1 + n % 5),
       timestamptz '${ANCHOR}' - make_interval(days => n),
       timestamptz '${ANCHOR}' - make_interval(days => n)
     FROM generate_series(1, ${sizes.integrations}) AS n`,
    // Metrics: evenly spaced over the span, names in turn, values from md5.
    `INSERT INTO system_metrics (id, metric_category, metric_name, metric_value, metric_unit, dimensions, timestamp)
     SELECT ${uuidSql(`'bench-metric-' || n`)},
       ${pick(CATEGORIES, `(((n - 1) % ${sizes.metricNames}) % ${CATEGORIES.length})`)},
       ${pick(METRIC_NAMES, `((n - 1) % ${sizes.metricNames})`)},
       round((${h(`'value' || n`, 1_000_000)} / 1000.0)::numeric, 3),
       'ms',
       jsonb_build_object('host', 'node-' || (n % 3)),
       timestamptz '${ANCHOR}' - make_interval(secs => ${spanSeconds}::float8 * (${sizes.metrics} - n + 1) / ${sizes.metrics})
     FROM generate_series(1, ${sizes.metrics}) AS n`,
    'ANALYZE tasks, task_executions, execution_log_entries, external_integrations, system_metrics',
  ];
}

/** Empties the four domain tables (not the migrations table) before a seed. */
export const RESET_STATEMENT =
  'TRUNCATE tasks, task_executions, execution_log_entries, task_dependencies, external_integrations, system_metrics';
