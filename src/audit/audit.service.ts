import type { DataSource, EntityManager } from 'typeorm';
import type { RequestScope } from '../request';
import type { JSONObject } from '../graphql/scalars';
import { AuditEntry } from './audit.entity';

export const MASKED = '[secret]';

export interface AuditChange {
  /** The mutation, e.g. "updateTask". */
  operation: string;
  /** The kind of record, e.g. "task". */
  entity: string;
  entityId: string | null;
  /** The record before (null for a creation) and after (null for a deletion). */
  before: object | null;
  after: object | null;
  /** Fields whose values are masked in the log (credentials). */
  secretFields?: readonly string[];
}

/** Fields that hold secrets wherever they appear, besides those a caller names. */
export const ALWAYS_SECRET = new Set(['configuration', 'tokenHash', 'token', 'password', 'secret']);

/**
 * The audit trail. `record` takes the transaction's EntityManager: the row commits or rolls back
 * with the change it describes, so a failed mutation leaves no row.
 */
export class AuditService {
  constructor(private readonly db: DataSource) {}

  async record(tx: EntityManager, scope: RequestScope, change: AuditChange): Promise<void> {
    const { principal } = scope;
    await tx.getRepository(AuditEntry).insert({
      actorKind: principal.kind,
      actorId: principal.id,
      actorName: principal.name,
      actorRole: principal.role,
      operation: change.operation,
      entity: change.entity,
      entityId: change.entityId,
      changes: diff(change.before, change.after, new Set([...ALWAYS_SECRET, ...(change.secretFields ?? [])])),
      requestId: scope.requestId,
    });
  }

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

/** `{ field: { before, after } }` for every field that differs; secrets masked, dates as ISO strings. */
export function diff(before: object | null, after: object | null, secret: ReadonlySet<string>): JSONObject {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const out: Record<string, { before: unknown; after: unknown }> = {};
  for (const field of new Set([...Object.keys(b), ...Object.keys(a)])) {
    const bv = normalise(b[field]);
    const av = normalise(a[field]);
    if (JSON.stringify(bv) === JSON.stringify(av)) continue;
    out[field] = secret.has(field)
      ? { before: field in b && bv !== null ? MASKED : null, after: field in a && av !== null ? MASKED : null }
      : { before: field in b ? bv : null, after: field in a ? av : null };
  }
  return out;
}

function normalise(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return null;
  return value;
}
