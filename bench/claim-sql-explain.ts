// EXPLAIN (ANALYZE, BUFFERS) of the claim and finish statements as QueueService builds them, on
// DATABASE_URL, inside a transaction rolled back after each: where a claim's database time goes
// (the pick, the two writes, their audit rows, the change-log triggers). Usage:
//   DATABASE_URL=postgres://... [ANALYZE=1] node -r @swc-node/register bench/claim-sql-explain.ts [ready tasks]
import 'reflect-metadata';
import { loadConfig } from '../src/config';
import { createDataSource } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { QueueService } from '../src/queue/queue.service';
import { systemPrincipal } from '../src/auth/principal';
import type { IdempotencyService } from '../src/idempotency/idempotency.service';
import type { RequestScope } from '../src/request';
import { ExecutionStatus } from '../src/executions/execution.entity';

async function main(): Promise<void> {
  const config = loadConfig();
  const db = createDataSource(config.db, catalogue);
  await db.initialize();
  const ready = Number(process.argv[2] ?? 2000);
  const runner = db.createQueryRunner();
  await runner.connect();
  const type = `explain-${Date.now()}`;
  await runner.query(`INSERT INTO tasks (title, type, priority) SELECT 'x ' || i, $1, i % 10 FROM generate_series(1, $2::int) i`, [
    type,
    ready,
  ]);
  // ANALYZE=1: statistics that know of the ready tasks (as autovacuum's analyze would, some time after a burst)
  if (process.env.ANALYZE === '1') await runner.query(`ANALYZE tasks, task_dependencies, task_executions`);
  let captured: { sql: string; params: unknown[] } | undefined;
  // the service's statements are captured as they run (for real, to get the answer), then explained
  const once = (async (
    _s: unknown,
    _k: unknown,
    _i: unknown,
    fn: (q: (sql: string, params: unknown[]) => Promise<unknown[]>) => Promise<unknown>,
  ) =>
    fn(async (sql, params) => {
      captured = { sql, params };
      return (await runner.query(sql, params)) as unknown[];
    })) as unknown as IdempotencyService['once'];
  const queue = new QueueService(db, config.queue, { once } as unknown as IdempotencyService);
  const scope = { requestId: 'explain', principal: systemPrincipal('explain') } as unknown as RequestScope;
  const explain = async (label: string) => {
    const plan = (await runner.query(`EXPLAIN (ANALYZE, BUFFERS, TIMING) ${captured!.sql}`, captured!.params)) as {
      'QUERY PLAN': string;
    }[];
    console.log(`--- ${label}\n${plan.map((r) => r['QUERY PLAN']).join('\n')}`);
  };
  for (let i = 0; i < 3; i++) {
    await runner.startTransaction();
    await queue.claim(scope, { agentType: 'explain', filter: { taskTypes: [type] }, leaseSeconds: 60 });
    await runner.rollbackTransaction();
    await runner.startTransaction();
    await explain(`claim ${i + 1}`);
    await runner.rollbackTransaction();
  }
  // a finish, explained: claim one (committed), then EXPLAIN ANALYZE its finish in a rolled-back transaction
  const c = await queue.claim(scope, { agentType: 'explain', filter: { taskTypes: [type] }, leaseSeconds: 60 });
  await runner.startTransaction();
  await queue.finish(scope, { id: c!.id, leaseToken: c!.leaseToken!, status: ExecutionStatus.SUCCEEDED });
  await runner.rollbackTransaction();
  await runner.startTransaction();
  await explain('finish');
  await runner.rollbackTransaction();
  // As the gateway runs them: a named prepared statement, executed again and again on one connection.
  // Does PostgreSQL keep planning each execution (custom plans) or settle on a generic plan?
  const client = (runner as unknown as { databaseConnection: { query(q: object): Promise<unknown> } }).databaseConnection;
  await runner.startTransaction();
  for (let i = 0; i < 20; i++) {
    await queue.claim(scope, { agentType: 'explain', filter: { taskTypes: [type] }, leaseSeconds: 60 });
    await client.query({ name: 'claim_probe', text: captured!.sql, values: captured!.params });
  }
  const [plans] = (await runner.query(
    `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'claim_probe'`,
  )) as object[];
  console.log(`--- claim as a prepared statement, 20 executions: ${JSON.stringify(plans)}`);
  await runner.rollbackTransaction();
  await runner.query(`DELETE FROM tasks WHERE type = $1`, [type]);
  await runner.release();
  await db.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
