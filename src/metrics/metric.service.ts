import { In, type DataSource } from 'typeorm';
import type { RequestScope } from '../request';
import { SystemMetric } from './metric.entity';
import type { MetricInput } from './metric.inputs';

export class MetricService {
  constructor(private readonly db: DataSource) {}

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

  async record(_scope: RequestScope, input: MetricInput): Promise<SystemMetric> {
    const repo = this.db.getRepository(SystemMetric);
    const { timestamp, dimensions, ...rest } = input;
    const { identifiers } = await repo.insert(repo.create({ ...rest, dimensions: dimensions ?? {}, ...(timestamp ? { timestamp } : {}) }));
    return repo.findOneByOrFail({ id: identifiers[0].id });
  }
}
