import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { TaskExecution } from '../executions/execution.entity';
import { entryColumnsSql } from '../executions/log-entry.sql';
import { ExternalIntegration } from '../integrations/integration.entity';
import { SystemMetric } from '../metrics/metric.entity';
import { Task } from '../tasks/task.entity';
import { buildDemoData } from './demo-data';
import { DEMO_ID_PREFIX } from './demo-ids';

export interface SeedOptions {
  /** The end of the demo day (default: now). */
  now?: Date;
}

export interface SeedResult {
  tasks: number;
  executions: number;
  integrations: number;
  metrics: number;
}

export interface SeedReport {
  /** The demo rows now in place, per table. */
  demo: SeedResult;
  /** Demo rows that were not there before this run (the others were refreshed). */
  added: number;
  /** Rows that are not demo data (the health monitor's samples, the user's own tasks), left as they were. */
  others: SeedResult;
}

/** One line for the user: what the seed did. */
export function describeSeed({ demo, added, others }: SeedReport): string {
  const total = demo.tasks + demo.executions + demo.integrations + demo.metrics;
  const kept = Object.entries(others).filter(([, n]) => n > 0);
  return (
    `demo data in place: ${demo.tasks} tasks, ${demo.executions} executions, ${demo.integrations} integrations, ` +
    `${demo.metrics} metric samples (${added} rows added, ${total - added} refreshed); ` +
    (kept.length === 0
      ? 'no other data in the database'
      : `other data left untouched beside it: ${kept.map(([name, n]) => `${n} ${name}`).join(', ')}`)
  );
}

/** Tables in the order rows are written (a task before its executions). */
const TABLES: { name: keyof SeedResult; table: string; entity: EntityTarget<ObjectLiteral> }[] = [
  { name: 'tasks', table: 'tasks', entity: Task },
  { name: 'executions', table: 'task_executions', entity: TaskExecution },
  { name: 'integrations', table: 'external_integrations', entity: ExternalIntegration },
  { name: 'metrics', table: 'system_metrics', entity: SystemMetric },
];

const CHUNK = 1_000;

/**
 * Writes the demo data set in one transaction, beside whatever else the database holds (the samples
 * the health monitor writes from the first minute of `npm start`, the user's own tasks): demo rows
 * have fixed ids under their own prefix, so a run adds the missing ones and refreshes the others
 * (timestamps move up to now), and never touches a row that is not demo data. Idempotent.
 */
export async function seedDemoData(db: DataSource, options: SeedOptions = {}): Promise<SeedReport> {
  const data = buildDemoData(options.now ?? new Date());
  return db.transaction(async (tx) => {
    // Two seeds at once would interleave their writes.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('taskmaster-gateway:db:seed'))`);
    const rows: Record<keyof SeedResult, ObjectLiteral[]> = data;
    for (const { name, table } of [...TABLES].reverse()) {
      // Demo rows of an older data set that this one no longer has (executions before their tasks).
      await tx.query(`DELETE FROM ${table} WHERE id::text LIKE $1 AND NOT (id = ANY($2::uuid[]))`, [
        `${DEMO_ID_PREFIX}%`,
        rows[name].map((r) => r.id as string),
      ]);
    }
    const before = await countRows(tx);
    // system_metrics' key is (id, timestamp) (partitioned by time) and demo samples move up to now:
    // they are replaced rather than upserted.
    await tx.query(`DELETE FROM system_metrics WHERE id::text LIKE $1`, [`${DEMO_ID_PREFIX}%`]);
    for (const { name, entity } of TABLES) {
      const conflictPaths = name === 'metrics' ? ['id', 'timestamp'] : ['id'];
      for (let i = 0; i < rows[name].length; i += CHUNK) {
        await tx.getRepository(entity).upsert(rows[name].slice(i, i + CHUNK), { conflictPaths });
      }
    }
    // Each demo execution's log, replaced: its entries as rows (their own "at"), its log_count.
    const logs = JSON.stringify(data.logs);
    await tx.query(`DELETE FROM execution_log_entries WHERE execution_id = ANY($1::uuid[])`, [data.logs.map((l) => l.executionId)]);
    await tx.query(
      `WITH given AS (SELECT (g ->> 'executionId')::uuid AS id, g -> 'entries' AS entries FROM jsonb_array_elements($1::jsonb) g),
        counted AS (UPDATE task_executions e SET log_count = jsonb_array_length(given.entries) FROM given WHERE e.id = given.id)
       INSERT INTO execution_log_entries (execution_id, seq, at, level, message, data)
       SELECT given.id, (x.n - 1)::int, (x.v ->> 'at')::timestamptz, ${entryColumnsSql('x.v')}
       FROM given CROSS JOIN LATERAL jsonb_array_elements(given.entries) WITH ORDINALITY AS x(v, n)`,
      [logs],
    );
    const demo: SeedResult = {
      tasks: data.tasks.length,
      executions: data.executions.length,
      integrations: data.integrations.length,
      metrics: data.metrics.length,
    };
    const sum = (r: SeedResult) => r.tasks + r.executions + r.integrations + r.metrics;
    return { demo, added: sum(demo) - sum(before.demo), others: before.others };
  });
}

/** Rows per table, demo rows (of this data set, after the stale ones are gone) and the others apart. */
async function countRows(tx: EntityManager): Promise<{ demo: SeedResult; others: SeedResult }> {
  const demo = { tasks: 0, executions: 0, integrations: 0, metrics: 0 };
  const others = { ...demo };
  for (const { name, table } of TABLES) {
    const [row] = await tx.query<{ demo: number; others: number }[]>(
      `SELECT count(*) FILTER (WHERE id::text LIKE $1)::int AS demo, count(*) FILTER (WHERE id::text NOT LIKE $1)::int AS others FROM ${table}`,
      [`${DEMO_ID_PREFIX}%`],
    );
    demo[name] = row.demo;
    others[name] = row.others;
  }
  return { demo, others };
}
