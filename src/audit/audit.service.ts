import type { DataSource } from 'typeorm';
import { Params } from '../db/sql';
import { newestFirst, type Connection } from '../db/reads/keyset';
import { TableReads, type PageRequest } from '../graphql/reads';
import { AuditEntry } from './audit.entity';

export interface AuditFilter {
  actorId?: string;
  operation?: string;
  entity?: string;
  entityId?: string;
  requestId?: string;
  since?: Date;
  until?: Date;
}

export interface AuditPageQuery extends PageRequest {
  filter?: AuditFilter | null;
}

/** Newest first, the id breaking ties: the (occurred_at, id) index serves every page. */
export const AUDIT_ORDERING = newestFirst('audit', 'a', 'occurred_at', false);

function auditFilterSql(f: AuditFilter | null | undefined, p: Params): string[] {
  if (!f) return [];
  const c: string[] = [];
  if (f.actorId) c.push(`a.actor_id = ${p.add(f.actorId)}`);
  if (f.operation) c.push(`a.operation = ${p.add(f.operation)}`);
  if (f.entity) c.push(`a.entity = ${p.add(f.entity)}`);
  if (f.entityId) c.push(`a.entity_id = ${p.add(f.entityId)}`);
  if (f.requestId) c.push(`a.request_id = ${p.add(f.requestId)}`);
  if (f.since) c.push(`a.occurred_at >= ${p.add(f.since)}::timestamptz`);
  if (f.until) c.push(`a.occurred_at < ${p.add(f.until)}::timestamptz`);
  return c;
}

/**
 * Reads the audit trail. Its rows are written only by the statements of `auditedStatement`, each
 * in the same statement as the change it describes.
 */
export class AuditService {
  private readonly reads: TableReads<AuditEntry>;

  constructor(
    db: DataSource,
    /** For a page asked without first (GRAPHQL_DEFAULT_PAGE_SIZE). */
    defaultPageSize: number,
  ) {
    this.reads = new TableReads(db, { from: 'audit_log a', alias: 'a', entity: AuditEntry }, defaultPageSize);
  }

  /** A keyset page, like every other connection (src/graphql/reads.ts). */
  async page(q: AuditPageQuery): Promise<Connection<AuditEntry>> {
    const params = new Params();
    return this.reads.page(q, { where: auditFilterSql(q.filter, params), params, ordering: AUDIT_ORDERING });
  }
}
