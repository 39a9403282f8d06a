import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { ConflictError } from '../errors';
import { TaskExecution } from '../executions/execution.entity';
import { ExternalIntegration } from '../integrations/integration.entity';
import { SystemMetric } from '../metrics/metric.entity';
import { Task } from '../tasks/task.entity';
import { buildDemoData } from './demo-data';
import { DEMO_ID_PREFIX } from './demo-ids';

export interface SeedOptions {
  /** Add the demo rows even though the database holds other data. */
  force?: boolean;
  /** The end of the demo day (default: now). */
  now?: Date;
}

export interface SeedResult {
  tasks: number;
  executions: number;
  integrations: number;
  metrics: number;
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
 * Writes the demo data set in one transaction. Idempotent: demo rows have fixed ids, so a second run
 * refreshes them (timestamps move up to now) and leaves the same counts. It refuses, changing
 * nothing, when any table holds a row that is not demo data, unless `force` is given; forced, it
 * adds and refreshes demo rows only and never touches the others.
 */
export async function seedDemoData(db: DataSource, options: SeedOptions = {}): Promise<SeedResult> {
  const data = buildDemoData(options.now ?? new Date());
  return db.transaction(async (tx) => {
    // Two seeds at once would interleave their checks and writes.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('taskmaster-gateway:db:seed'))`);
    if (!options.force) {
      const others = await nonDemoTables(tx);
      if (others.length > 0) {
        throw new ConflictError(
          `the database already holds data that is not demo data (in ${others.join(', ')}); ` +
            'seed an empty database, or run `npm run db:seed -- --force` to add the demo data beside it',
          { tables: others },
        );
      }
    }
    const rows: Record<keyof SeedResult, ObjectLiteral[]> = data;
    for (const { name, table } of [...TABLES].reverse()) {
      // Demo rows of an older data set that this one no longer has (executions before their tasks).
      await tx.query(`DELETE FROM ${table} WHERE id::text LIKE $1 AND NOT (id = ANY($2::uuid[]))`, [
        `${DEMO_ID_PREFIX}%`,
        rows[name].map((r) => r.id as string),
      ]);
    }
    for (const { name, entity } of TABLES) {
      for (let i = 0; i < rows[name].length; i += CHUNK) {
        await tx.getRepository(entity).upsert(rows[name].slice(i, i + CHUNK), { conflictPaths: ['id'] });
      }
    }
    return {
      tasks: data.tasks.length,
      executions: data.executions.length,
      integrations: data.integrations.length,
      metrics: data.metrics.length,
    };
  });
}

/** The tables holding at least one row whose id is not a demo id. */
async function nonDemoTables(tx: EntityManager): Promise<string[]> {
  const found: string[] = [];
  for (const { table } of TABLES) {
    const [{ other }] = await tx.query<{ other: boolean }[]>(`SELECT EXISTS (SELECT 1 FROM ${table} WHERE id::text NOT LIKE $1) AS other`, [
      `${DEMO_ID_PREFIX}%`,
    ]);
    if (other) found.push(table);
  }
  return found;
}
