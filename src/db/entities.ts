import { TaskExecution } from '../executions/execution.entity';
import { ExternalIntegration } from '../integrations/integration.entity';
import { SystemMetric } from '../metrics/metric.entity';
import { Task } from '../tasks/task.entity';
import { InitialSchema1764300000000 } from '../../migrations/1764300000000-InitialSchema';
import { KeysetIndexes1764400000000 } from '../../migrations/1764400000000-KeysetIndexes';

/** Listed, not globbed: the same list works from TypeScript sources, compiled output and the CLI. */
export const entities = [Task, TaskExecution, ExternalIntegration, SystemMetric];
export const migrations = [InitialSchema1764300000000, KeysetIndexes1764400000000];
