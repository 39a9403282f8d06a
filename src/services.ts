import type { DataSource } from 'typeorm';
import { ExecutionService } from './executions/execution.service';
import { IntegrationService } from './integrations/integration.service';
import { MetricService } from './metrics/metric.service';
import { TaskService } from './tasks/task.service';
import { TunnelService } from './tunnel/tunnel.service';

/** The domain services, created once per gateway around its DataSource. */
export function createServices(db: DataSource, tunnel: TunnelService = TunnelService.disabled()) {
  const tasks = new TaskService(db);
  return {
    tasks,
    executions: new ExecutionService(db, tasks),
    integrations: new IntegrationService(db),
    metrics: new MetricService(db),
    tunnel,
  };
}
export type Services = ReturnType<typeof createServices>;
