import { validate } from 'class-validator';
import type { DataSource } from 'typeorm';
import { Arg, ArgumentValidationError, Authorized, Ctx, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { Role } from '../auth/roles';
import { TaskExecution } from '../executions/execution.entity';
import type { Context } from '../graphql/context';
import { createLoaders } from '../graphql/loaders';
import { JSONObjectScalar, UUIDScalar, type JSONObject } from '../graphql/scalars';
import { SystemMetric } from '../metrics/metric.entity';
import { Task } from '../tasks/task.entity';
import { TaskFilter } from '../tasks/task.query';
import type { ChangeHub, ChangeInterest } from './change-hub';
import { sharedRead } from './change-hub';
import { decodeChangeCursor, encodeChangeCursor, type ChangeEvent } from './change-log';
import { checkTaskFilter, logEntriesBySeq, logEntryAt, sampleHasDimensions, taskEventPasses, tasksPassing } from './event-reads';
import {
  ChangeLogEvent,
  ChangeOperation,
  ExecutionChangedEvent,
  ExecutionLogEntry,
  MetricRecordedEvent,
  TaskChangedEvent,
} from './subscription.types';

/** The context of an operation over WebSocket: a request context plus the hub and the socket's slow-consumer exit. */
export interface SubscriptionContext extends Context {
  changes: ChangeHub;
  /** The gateway's data source: filters evaluated on the changed row, log entries by index. */
  db: DataSource;
  /** Closes the socket as a slow consumer (a subscription stayed behind, see change-hub.ts). */
  slowConsumer(): void;
  /** Subscriptions with the same key share each event's execution (see shared-execution.ts). */
  shareKey: string;
}

/** The arguments of every subscription field below (each takes some of them). */
interface SubscriptionArgs {
  filter?: object | null;
  after?: string | null;
  taskId?: string;
  executionId?: string;
  name?: string;
  dimensions?: object | null;
}
type Data = SubscribeResolverData<unknown, SubscriptionArgs, SubscriptionContext>;

function subscribe(interest: (args: SubscriptionArgs, ctx: SubscriptionContext) => ChangeInterest) {
  return async ({ args, context }: Data) => {
    if (!context.changes) throw new Error('subscriptions are served over WebSocket (graphql-ws) at /graphql');
    // The filter's own rules (lengths, list sizes) now, rather than as an error on every event.
    if (args.filter) {
      const errors = await validate(Object.assign(new TaskFilter(), args.filter), {
        forbidUnknownValues: false,
        validationError: { target: false, value: false },
      });
      if (errors.length > 0) throw new ArgumentValidationError(errors);
    }
    const after = args.after == null ? undefined : decodeChangeCursor(args.after);
    return context.changes.subscribe(interest(args, context), { after, onOverflow: () => context.slowConsumer() });
  };
}

/** A row of a table, read once per event for every subscriber of this gateway (see sharedRead). */
function currentRow<T>(event: ChangeEvent, read: () => Promise<T[]>): Promise<T | null> {
  return sharedRead(event, 'row', async () => (await read())[0] ?? null);
}

/** A DELETE's row image (snake_case JSON) shaped like the entity. */
function imageOf<T>(ctx: SubscriptionContext, entity: new () => T, old: Record<string, unknown>): T {
  const row = {} as Record<string, unknown>;
  for (const column of ctx.db.getMetadata(entity).columns) {
    const value = old[column.databaseName];
    row[column.propertyName] =
      value != null && column.type === 'timestamptz'
        ? new Date(value as string)
        : column.type === 'decimal' && value != null
          ? Number(value)
          : (value ?? null);
  }
  return row as T;
}

const operation = (event: ChangeEvent) => event.operation as unknown as ChangeOperation;

/**
 * GraphQL subscriptions fed by the change log (see change-listener.ts). Each takes `after: cursor`
 * to resume. The changed rows are read through the services at delivery; each event resolves its
 * nested fields with fresh loaders, so nothing cached in one event is served in the next.
 */
@Resolver()
export class SubscriptionResolver {
  @Authorized(Role.VIEWER)
  @Subscription(() => TaskChangedEvent, {
    description:
      'Tasks created, changed or deleted, from now on (or after `after`). `filter` is the `tasks` filter, evaluated on the changed row (on the row as it was, for a deletion).',
    subscribe: subscribe((args, ctx) => {
      const filter = (args.filter ?? null) as TaskFilter | null;
      if (filter) checkTaskFilter(filter);
      const key = `filter:${JSON.stringify(filter)}`;
      return {
        table: 'tasks',
        replayWhere: 'TRUE',
        replayParams: [],
        matches: () => true,
        // A replayed page: the rows, and which of them pass the filter, in two statements.
        prefetch: async (events) => {
          const present = events.filter((e) => e.operation !== 'DELETE');
          const ids = [...new Set(present.map((e) => e.rowId))];
          if (ids.length === 0) return;
          const rows = new Map((await ctx.services.tasks.findByIds(ids)).map((t) => [t.id, t]));
          const passing = filter ? await tasksPassing(ctx.db, ids, filter) : undefined;
          for (const event of present) {
            void sharedRead(event, 'row', async () => rows.get(event.rowId) ?? null);
            if (passing) void sharedRead(event, key, async () => passing.has(event.rowId));
          }
        },
        accept: filter ? (event) => sharedRead(event, key, () => taskEventPasses(ctx.db, event, filter)) : undefined,
      };
    }),
  })
  async taskChanged(
    @Root() event: ChangeEvent,
    @Arg('filter', () => TaskFilter, { nullable: true }) _filter: TaskFilter | null,
    @Arg('after', () => String, { nullable: true, description: 'A cursor from an earlier event: replay what changed since, then go live.' })
    _after: string | null,
    @Ctx() ctx: SubscriptionContext,
  ): Promise<TaskChangedEvent> {
    ctx.loaders = createLoaders();
    const task =
      event.operation === 'DELETE' && event.oldRow
        ? imageOf(ctx, Task, event.oldRow)
        : await currentRow(event, () => ctx.services.tasks.findByIds([event.rowId]));
    return { cursor: encodeChangeCursor(event.seq), operation: operation(event), taskId: event.rowId, task };
  }

  @Authorized(Role.VIEWER)
  @Subscription(() => ExecutionChangedEvent, {
    description: 'Executions of one task started, changed (status, result) or deleted. Log appends: executionLogAppended.',
    subscribe: subscribe((args) => ({
      table: 'task_executions',
      replayWhere: `c.operation <> 'LOG' AND c.task_id = $2::uuid`,
      replayParams: [args.taskId],
      matches: (e) => e.operation !== 'LOG' && e.taskId === args.taskId,
    })),
  })
  async executionChanged(
    @Root() event: ChangeEvent,
    @Arg('taskId', () => UUIDScalar) _taskId: string,
    @Arg('after', () => String, { nullable: true }) _after: string | null,
    @Ctx() ctx: SubscriptionContext,
  ): Promise<ExecutionChangedEvent> {
    ctx.loaders = createLoaders();
    const execution =
      event.operation === 'DELETE' && event.oldRow
        ? imageOf(ctx, TaskExecution, event.oldRow)
        : await currentRow(event, () => ctx.services.executions.findByIds([event.rowId]));
    return {
      cursor: encodeChangeCursor(event.seq),
      operation: operation(event),
      executionId: event.rowId,
      taskId: event.taskId,
      execution,
    };
  }

  @Authorized(Role.VIEWER)
  @Subscription(() => ExecutionLogEntry, {
    description:
      'Entries appended to one execution’s log (execution_log_entries): each entry once, in seq order (concurrent appends included); `index` is its seq.',
    subscribe: subscribe((args, ctx) => ({
      table: 'task_executions',
      replayWhere: `c.operation = 'LOG' AND c.row_id = $2::uuid`,
      replayParams: [args.executionId],
      matches: (e) => e.operation === 'LOG' && e.rowId === args.executionId,
      // A replayed page: its entries read in one statement (log_index is the entry's seq).
      prefetch: async (events) => {
        const bySeq = await logEntriesBySeq(
          ctx.db,
          args.executionId as string,
          events.map((e) => e.logIndex as number),
        );
        for (const event of events) void sharedRead(event, 'entry', async () => [{ entry: bySeq.get(event.logIndex as number) ?? null }]);
      },
    })),
  })
  async executionLogAppended(
    @Root() event: ChangeEvent,
    @Arg('executionId', () => UUIDScalar) _executionId: string,
    @Arg('after', () => String, { nullable: true }) _after: string | null,
    @Ctx() ctx: SubscriptionContext,
  ): Promise<ExecutionLogEntry> {
    const [row] = await sharedRead(event, 'entry', async () => [
      { entry: await logEntryAt(ctx.db, event.rowId, event.logIndex as number) },
    ]);
    return { cursor: encodeChangeCursor(event.seq), executionId: event.rowId, index: event.logIndex as number, entry: row?.entry ?? null };
  }

  @Authorized(Role.VIEWER)
  @Subscription(() => MetricRecordedEvent, {
    description: 'Samples of one metric as they are recorded; `dimensions`: only samples whose dimensions contain this object.',
    subscribe: subscribe((args, ctx) => {
      const dimensions = (args.dimensions ?? null) as JSONObject | null;
      const key = `dims:${JSON.stringify(dimensions)}`;
      return {
        table: 'system_metrics',
        replayWhere: `c.operation = 'INSERT' AND c.metric_name = $2`,
        replayParams: [args.name],
        matches: (e) => e.operation === 'INSERT' && e.metricName === args.name,
        accept: dimensions ? (event) => sharedRead(event, key, () => sampleHasDimensions(ctx.db, event.rowId, dimensions)) : undefined,
      };
    }),
  })
  async metricRecorded(
    @Root() event: ChangeEvent,
    @Arg('name') _name: string,
    @Arg('dimensions', () => JSONObjectScalar, { nullable: true, validate: false }) _dimensions: JSONObject | null,
    @Arg('after', () => String, { nullable: true }) _after: string | null,
    @Ctx() ctx: SubscriptionContext,
  ): Promise<MetricRecordedEvent> {
    ctx.loaders = createLoaders();
    const metric = await currentRow<SystemMetric>(event, () => ctx.services.metrics.findByIds([event.rowId]));
    return { cursor: encodeChangeCursor(event.seq), metric };
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => ChangeLogEvent, {
    description:
      'Every row of the change log (tasks, executions, metrics), without row data: for consumers that replicate. Admins only, like auditLog.',
    subscribe: subscribe(() => ({ table: '*', replayWhere: 'TRUE', replayParams: [], matches: () => true })),
  })
  changeFeed(@Root() event: ChangeEvent, @Arg('after', () => String, { nullable: true }) _after: string | null): ChangeLogEvent {
    return {
      cursor: encodeChangeCursor(event.seq),
      table: event.table,
      rowId: event.rowId,
      operation: event.operation,
      logIndex: event.logIndex,
      occurredAt: event.occurredAt,
    };
  }
}

/**
 * type-graphql refuses to build subscriptions without a PubSub, even when every subscription has
 * its own `subscribe` (ours read the change log). This one fails loudly if anything publishes: an
 * in-memory PubSub would only reach subscribers of one instance.
 */
export const NO_IN_MEMORY_PUBSUB = {
  publish(): void {
    throw new Error('In-memory PubSub is not used: events come from the PostgreSQL change log (src/subscriptions/)');
  },
  subscribe(): AsyncIterable<never> {
    throw new Error('Subscriptions define their own subscribe (src/subscriptions/subscription.resolver.ts)');
  },
};
