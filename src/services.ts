import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { ExecutionService } from './executions/execution.service';
import { PoolHealthService } from './health/pool-health.service';
import { IntegrationService } from './integrations/integration.service';
import { MetricService } from './metrics/metric.service';
import { TaskService } from './tasks/task.service';
import type { Logger } from './logger';

/** The domain services, created once per gateway around its DataSource. */
export function createServices(db: DataSource, config: Config, logger: Logger) {
  const tasks = new TaskService(db);
  return {
    tasks,
    executions: new ExecutionService(db, tasks),
    integrations: new IntegrationService(db),
    metrics: new MetricService(db),
    health: new PoolHealthService(db, config.db, config.health, logger),
  };
}
export type Services = ReturnType<typeof createServices>;
