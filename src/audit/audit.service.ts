import type { DataSource } from 'typeorm';
import { AuditEntry } from './audit.entity';

/**
 * Reads the audit trail. Its rows are written only by the statements of `auditedStatement`, each
 * in the same statement as the change it describes.
 */
export class AuditService {
  constructor(private readonly db: DataSource) {}

  /** Newest first, keyset-paginated on (occurred_at, id). */
  async list(filter: AuditFilter, first: number, after?: { occurredAt: Date; id: string }): Promise<{ rows: AuditEntry[]; totalCount: () => Promise<number> }> {
    const base = () => {
      const qb = this.db.getRepository(AuditEntry).createQueryBuilder('a');
      if (filter.actorId) qb.andWhere('a.actor_id = :actorId', { actorId: filter.actorId });
      if (filter.operation) qb.andWhere('a.operation = :operation', { operation: filter.operation });
      if (filter.entity) qb.andWhere('a.entity = :entity', { entity: filter.entity });
      if (filter.entityId) qb.andWhere('a.entity_id = :entityId', { entityId: filter.entityId });
      if (filter.requestId) qb.andWhere('a.request_id = :requestId', { requestId: filter.requestId });
      if (filter.since) qb.andWhere('a.occurred_at >= :since', { since: filter.since });
      if (filter.until) qb.andWhere('a.occurred_at < :until', { until: filter.until });
      return qb;
    };
    const page = base();
    if (after) page.andWhere('(a.occurred_at, a.id) < (:afterAt, :afterId)', { afterAt: after.occurredAt, afterId: after.id });
    const rows = await page.orderBy('a.occurred_at', 'DESC').addOrderBy('a.id', 'DESC').take(first + 1).getMany();
    return { rows, totalCount: () => base().getCount() };
  }
}

export interface AuditFilter {
  actorId?: string;
  operation?: string;
  entity?: string;
  entityId?: string;
  requestId?: string;
  since?: Date;
  until?: Date;
}
