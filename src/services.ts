import type { GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import { AuditResolver } from './audit/audit.resolver';
import { AuditService } from './audit/audit.service';
import { TokenResolver } from './tokens/token.resolver';
import { TokenService } from './tokens/token.service';
import type { Config } from './config';
import { EXECUTION_NODE, LOG_ENTRY_NODE, TASK_EXECUTION_RELATIONS } from './executions/execution.query';
import { ExecutionResolver, TaskExecutionsResolver } from './executions/execution.resolver';
import { ExecutionService, MAX_LOG_ENTRIES } from './executions/execution.service';
import { createSchema } from './graphql/schema';
import { PoolHealthResolver } from './health/pool-health.resolver';
import { PoolHealthService } from './health/pool-health.service';
import { RetentionService } from './retention/retention.service';
import { defaultStores } from './retention/retention.store';
import { IdempotencyService } from './idempotency/idempotency.service';
import { IntegrationResolver } from './integrations/integration.resolver';
import { IntegrationService } from './integrations/integration.service';
import type { Logger } from './logger';
import { MetricResolver } from './metrics/metric.resolver';
import { MAX_METRICS_PER_CALL, MetricService } from './metrics/metric.service';
import { NodeResolver } from './node/node.resolver';
import { NodeService } from './node/node.service';
import { SecretBox } from './secrets/secret-box';
import { checkArgumentSizes, DEFAULT_INPUT_LIMITS, type ListCaps } from './security/input-limits';
import type { InputLimits } from './config';
import { RateLimitResolver } from './security/rate-limit.resolver';
import { SqlConsoleResolver } from './console/sql-console.resolver';
import { SqlConsole } from './console/sql-console';
import { NO_IN_MEMORY_PUBSUB, SubscriptionResolver } from './subscriptions/subscription.resolver';
import { TASK_NODE } from './tasks/task.query';
import { TaskResolver } from './tasks/task.resolver';
import { TaskService } from './tasks/task.service';
import { QueueResolver, TaskDependencyResolver } from './queue/queue.resolver';
import { DependencyService } from './queue/dependency.service';
import { TASK_DEPENDENCY_RELATIONS } from './queue/dependency.query';
import { QueueService } from './queue/queue.service';
import { TunnelResolver } from './tunnel/tunnel.resolver';
import { TunnelService } from './tunnel/tunnel.service';
import { WebhookDispatcher } from './webhooks/webhook.dispatcher';
import { WebhookResolver } from './webhooks/webhook.resolver';
import { WebhookService } from './webhooks/webhook.service';

/*
 * The composition root of the features: the one file that names them all. The shared machinery
 * (graphql/, db/, security/, auth/) imports no feature; the features register here instead, and
 * gateway.ts hands what is collected (services, resolvers, planned node types) to it at start-up.
 * test/architecture.test.ts keeps it so.
 */

/** The domain services, created once per gateway around its DataSource. */
/** `control` is the small bookkeeping pool (see db/database.ts); tokens are checked through it. */
export function createServices(
  db: DataSource,
  config: Config,
  logger: Logger,
  tunnel: TunnelService = TunnelService.disabled(),
  control: DataSource = db,
) {
  const pageSize = config.security.limits.defaultPageSize;
  const audit = new AuditService(db, pageSize);
  const secrets = new SecretBox(config.security.secrets.keys, config.security.secrets.activeKeyId);
  const idempotency = new IdempotencyService(db, config.writes.idempotencyTtlHours);
  const tasks = new TaskService(db, idempotency, pageSize);
  const queue = new QueueService(db, config.queue, idempotency, logger);
  // webhook signing secrets: the same keys, their own purpose (a ciphertext cannot move between the two)
  const webhookSecrets = new SecretBox(config.security.secrets.keys, config.security.secrets.activeKeyId, 'webhooks.secret');
  return {
    queue,
    dependencies: new DependencyService(db),
    audit,
    idempotency,
    tasks,
    executions: new ExecutionService(db, tasks, idempotency, pageSize, (scope, input, key) => queue.finish(scope, input, key)),
    integrations: new IntegrationService(db, secrets, idempotency, pageSize),
    metrics: new MetricService(db, idempotency, pageSize),
    tokens: new TokenService(control, config.security.auth.tokenCacheSeconds),
    sql: new SqlConsole(config.security.runSql, config.db),
    tunnel,
    health: new PoolHealthService(db, config.db, config.health, logger),
    retention: new RetentionService(db, config.retention, logger, defaultStores(config.retention)),
    nodes: new NodeService(db),
    webhooks: new WebhookService(db, webhookSecrets, config.webhooks, pageSize),
    webhookDispatcher: new WebhookDispatcher(db, config.webhooks, webhookSecrets, logger),
  };
}
export type Services = ReturnType<typeof createServices>;

declare module './graphql/features' {
  /** `ctx.services` in every resolver: what createServices built. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging needs an interface; a type alias cannot augment one
  interface GatewayServices extends Services {}
}

/** Every resolver of every feature, in the order type-graphql builds them. */
export const resolvers = [
  TaskResolver,
  ExecutionResolver,
  TaskExecutionsResolver,
  QueueResolver,
  TaskDependencyResolver,
  IntegrationResolver,
  MetricResolver,
  TokenResolver,
  AuditResolver,
  RateLimitResolver,
  SqlConsoleResolver,
  TunnelResolver,
  PoolHealthResolver,
  NodeResolver,
  SubscriptionResolver,
  WebhookResolver,
] as const;

/** Lists allowed more than INPUT_MAX_LIST_ITEMS items: their own documented caps. */
const LIST_CAPS: ListCaps = new Map([
  ['Mutation.recordMetrics.input', MAX_METRICS_PER_CALL],
  ['AppendExecutionLogInput.entries', MAX_LOG_ENTRIES],
]);

/**
 * The gateway's schema: the features' resolvers, the node types the SQL planner answers, and the
 * INPUT_MAX_* caps (config.security.input) checked before any resolver runs.
 */
export function createGatewaySchema(inputLimits: InputLimits = DEFAULT_INPUT_LIMITS): Promise<GraphQLSchema> {
  return createSchema({
    resolvers,
    plannedNodes: [TASK_NODE, EXECUTION_NODE, LOG_ENTRY_NODE],
    plannedRelations: [TASK_EXECUTION_RELATIONS, TASK_DEPENDENCY_RELATIONS],
    pubSub: NO_IN_MEMORY_PUBSUB,
    checkArguments: (info, args) => checkArgumentSizes(info, args, inputLimits, LIST_CAPS),
  });
}
