import { In, type DataSource } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestScope } from '../request';
import { SystemMetric } from './metric.entity';
import type { MetricInput } from './metric.inputs';

export class MetricService {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  findByIds(ids: readonly string[]): Promise<SystemMetric[]> {
    return this.db.getRepository(SystemMetric).findBy({ id: In([...ids]) });
  }

  list(first: number, name?: string): Promise<SystemMetric[]> {
    return this.db.getRepository(SystemMetric).find({
      where: name ? { name } : {},
      order: { timestamp: 'DESC', id: 'DESC' },
      take: first,
    });
  }

  async record(scope: RequestScope, input: MetricInput): Promise<SystemMetric> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(SystemMetric);
      const { timestamp, dimensions, ...rest } = input;
      const { identifiers } = await repo.insert(repo.create({ ...rest, dimensions: dimensions ?? {}, ...(timestamp ? { timestamp } : {}) }));
      const metric = await repo.findOneByOrFail({ id: identifiers[0].id });
      await this.audit.record(tx, scope, { operation: 'recordMetric', entity: 'system_metric', entityId: metric.id, before: null, after: metric });
      return metric;
    });
  }
}
