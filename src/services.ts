import type { DataSource } from 'typeorm';
import { AuditService } from './audit/audit.service';
import { TokenService } from './auth/token.service';
import type { Config } from './config';
import { SecretBox } from './secrets/secret-box';
import { SqlConsole } from './security/sql-console';
import { ExecutionService } from './executions/execution.service';
import { PoolHealthService } from './health/pool-health.service';
import { IntegrationService } from './integrations/integration.service';
import { MetricService } from './metrics/metric.service';
import { NodeService } from './node/node.service';
import { TaskService } from './tasks/task.service';
import { IdempotencyService } from './idempotency/idempotency.service';
import { TunnelService } from './tunnel/tunnel.service';
import type { Logger } from './logger';

/** The domain services, created once per gateway around its DataSource. */
/** `control` is the small bookkeeping pool (see db/database.ts); tokens are checked through it. */
export function createServices(db: DataSource, config: Config, logger: Logger, tunnel: TunnelService = TunnelService.disabled(), control: DataSource = db) {
  const pageSize = config.security.limits.defaultPageSize;
  const audit = new AuditService(db, pageSize);
  const secrets = new SecretBox(config.security.secrets.keys, config.security.secrets.activeKeyId);
  const idempotency = new IdempotencyService(db, config.writes.idempotencyTtlHours);
  const tasks = new TaskService(db, idempotency, pageSize);
  return {
    audit,
    idempotency,
    tasks,
    executions: new ExecutionService(db, tasks, idempotency, pageSize),
    integrations: new IntegrationService(db, secrets, idempotency, pageSize),
    metrics: new MetricService(db, idempotency, pageSize),
    tokens: new TokenService(control, config.security.auth.tokenCacheSeconds),
    sql: new SqlConsole(config.security.runSql, config.db),
    tunnel,
    health: new PoolHealthService(db, config.db, config.health, logger),
    nodes: new NodeService(db),
  };
}
export type Services = ReturnType<typeof createServices>;
