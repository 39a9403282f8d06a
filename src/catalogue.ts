import { TaskExecution } from './executions/execution.entity';
import { ExternalIntegration } from './integrations/integration.entity';
import { SystemMetric } from './metrics/metric.entity';
import { Task } from './tasks/task.entity';
import { InitialSchema1764300000000 } from '../migrations/1764300000000-InitialSchema';
import { KeysetIndexes1764400000000 } from '../migrations/1764400000000-KeysetIndexes';
import { Security1764500000000 } from '../migrations/1764500000000-Security';
import { VocabularyChecks1764700000000 } from '../migrations/1764700000000-VocabularyChecks';
import { ConcurrentWrites1764701000000 } from '../migrations/1764701000000-ConcurrentWrites';
import { IdempotencyKey } from './idempotency/idempotency-key.entity';
import { ChangeLog1764900000000 } from '../migrations/1764900000000-ChangeLog';
import { ChangeLogWithoutNotify1765000000000 } from '../migrations/1765000000000-ChangeLogWithoutNotify';
import { ServerRequestId1765100000000 } from '../migrations/1765100000000-ServerRequestId';
import { ApiToken } from './tokens/api-token.entity';
import { AuditEntry } from './audit/audit.entity';
import { RateLimitWindow } from './security/rate-limit.entity';
import { TaskDependency } from './queue/task-dependency.entity';
import { AgentWork1766000000000 } from '../migrations/1766000000000-AgentWork';
import { Webhooks1767000000000 } from '../migrations/1767000000000-Webhooks';
import { Webhook, WebhookDelivery } from './webhooks/webhook.entity';
import { ExecutionLogEntries1767100000000 } from '../migrations/1767100000000-ExecutionLogEntries';
import { ExecutionLogEntry } from './executions/log-entry.entity';
import { ChangeLogWithoutLock1767300000000 } from '../migrations/1767300000000-ChangeLogWithoutLock';
import { MetricsPartitions1767200000000 } from '../migrations/1767200000000-MetricsPartitions';

import type { Catalogue } from './db/data-source';

/**
 * The entities and migrations every DataSource of this schema is built with (the gateway's, the
 * CLI's in ormconfig.ts, the scripts' and the tests'). Listed, not globbed: the same list works from
 * TypeScript sources, compiled output and the CLI. It names the features' entities, so it sits with
 * the composition root; db/ takes it as a parameter.
 */
const entities = [
  Task,
  TaskExecution,
  ExecutionLogEntry,
  ExternalIntegration,
  SystemMetric,
  ApiToken,
  AuditEntry,
  RateLimitWindow,
  IdempotencyKey,
  TaskDependency,
  Webhook,
  WebhookDelivery,
];
const migrations = [
  InitialSchema1764300000000,
  KeysetIndexes1764400000000,
  Security1764500000000,
  VocabularyChecks1764700000000,
  ConcurrentWrites1764701000000,
  ChangeLog1764900000000,
  ChangeLogWithoutNotify1765000000000,
  ServerRequestId1765100000000,
  AgentWork1766000000000,
  Webhooks1767000000000,
  ExecutionLogEntries1767100000000,
  MetricsPartitions1767200000000,
  ChangeLogWithoutLock1767300000000,
];

export const catalogue: Catalogue = { entities, migrations };
