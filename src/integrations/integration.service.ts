import type { DataSource } from 'typeorm';
import {
  auditedDelete,
  auditedStatement,
  changedRow,
  insertedRows,
  outcomeOf,
  writtenTable,
  type WrittenTable,
} from '../audit/audited-statement';
import { poolQuery, runWrite } from '../db/writes';
import type { IdempotencyRequest, IdempotencyService } from '../idempotency/idempotency.service';
import type { RequestScope } from '../request';
import type { JSONObject } from '../graphql/scalars';
import { credentialsHint, type SecretBox } from '../secrets/secret-box';
import { ConflictError, NotFoundError } from '../errors';
import type { Connection } from '../db/reads/keyset';
import { TableReads, type PageRequest } from '../graphql/reads';
import { entityColumns, query, type EntityColumns } from '../db/rows';
import { Params } from '../db/sql';
import { ExternalIntegration, IntegrationStatus } from './integration.entity';
import type { CreateIntegrationInput, UpdateIntegrationInput } from './integration.inputs';
import { INTEGRATION_ORDERING, integrationFilterSql, type IntegrationFilter } from './integration.query';

export interface IntegrationPageQuery extends PageRequest {
  filter?: IntegrationFilter | null;
}

export class IntegrationService {
  private written?: WrittenTable;
  private readonly reads: TableReads<ExternalIntegration>;

  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
    private readonly idempotency: IdempotencyService,
    /** For a list asked without first/last (GRAPHQL_DEFAULT_PAGE_SIZE). */
    defaultPageSize: number,
  ) {
    // the sealed configuration is never read for an answer
    this.reads = new TableReads(
      db,
      { from: 'external_integrations i', alias: 'i', entity: ExternalIntegration, hidden: ['configuration'] },
      defaultPageSize,
    );
  }

  private get table(): WrittenTable {
    return (this.written ??= writtenTable(this.db, ExternalIntegration, 'external_integration', { hidden: ['configuration'] }));
  }

  private get columns(): EntityColumns {
    return entityColumns(this.db, ExternalIntegration);
  }

  /** Integrations by id with only the given fields read (every column but the configuration without). */
  async findByIds(ids: readonly string[], fields?: Iterable<string>): Promise<ExternalIntegration[]> {
    return this.reads.byIds(ids, fields);
  }

  async page(q: IntegrationPageQuery): Promise<Connection<ExternalIntegration>> {
    const params = new Params();
    return this.reads.page(q, { where: integrationFilterSql(q.filter, params), params, ordering: INTEGRATION_ORDERING });
  }

  /** One audited INSERT; the configuration is sealed first and never returned. */
  async create(scope: RequestScope, input: CreateIntegrationInput, idempotency?: IdempotencyRequest): Promise<ExternalIntegration> {
    const { idempotencyKey: _key, ...fields } = input;
    const p = new Params();
    const values: Record<string, unknown> = { ...fields, ...this.sealed(fields.configuration) };
    const names: string[] = [];
    const refs: string[] = [];
    for (const [prop, value] of Object.entries(values)) {
      const a = value === null ? undefined : this.columns.assign(prop, value, p);
      if (!a) continue;
      names.push(a.column);
      refs.push(a.value);
    }
    const statement = auditedStatement(scope, this.table, {
      kind: 'insert',
      operation: 'createIntegration',
      insert: `INSERT INTO external_integrations AS w (${names.join(', ')}) VALUES (${refs.join(', ')})`,
      params: p,
    });
    // the request hash covers the configuration as sent; only its hash is stored, never the credentials
    return this.idempotency.once(
      scope,
      idempotency,
      fields,
      async (query) => insertedRows<ExternalIntegration>(await runWrite(query, statement))[0],
    );
  }

  /** Field-level changes in one audited UPDATE over the locked row; with expectedVersion, only to that version. */
  async update(scope: RequestScope, input: UpdateIntegrationInput): Promise<ExternalIntegration> {
    const { id, configuration, expectedVersion, ...changes } = input;
    const values: Record<string, unknown> = { ...changes, ...(configuration !== undefined ? this.sealed(configuration) : {}) };
    return this.change(scope, 'updateIntegration', id, values, expectedVersion);
  }

  /**
   * ACTIVE or DISABLED, in one audited UPDATE. Already so, nothing changes (no version bump, no
   * audit row), as a task moved to its current status: a repeated disable does not make other
   * writers' expectedVersion stale.
   */
  setStatus(scope: RequestScope, id: string, status: IntegrationStatus): Promise<ExternalIntegration> {
    const operation = status === IntegrationStatus.ACTIVE ? 'enableIntegration' : 'disableIntegration';
    return this.change(scope, operation, id, { status }, undefined, (column, value) => `o.${column} IS DISTINCT FROM ${value}`);
  }

  private async change(
    scope: RequestScope,
    operation: string,
    id: string,
    values: Record<string, unknown>,
    expectedVersion?: number | null,
    /** A condition on the locked row `o` per assigned column; where it fails, nothing changes. */
    onlyIf?: (column: string, value: string) => string,
  ): Promise<ExternalIntegration> {
    const p = new Params();
    const idRef = `${p.add(id)}::uuid`;
    const set: string[] = [];
    const where: string[] = [];
    for (const [prop, value] of Object.entries(values)) {
      const a = this.columns.assign(prop, value, p);
      if (!a) continue;
      set.push(`${a.column} = ${a.value}`);
      if (onlyIf) where.push(onlyIf(a.column, a.value));
    }
    const statement = auditedStatement(scope, this.table, {
      kind: 'update',
      operation,
      id: idRef,
      set,
      where: set.length === 0 ? ['false'] : where,
      expectedVersion,
      params: p,
    });
    const result = changedRow(
      outcomeOf<ExternalIntegration>(await runWrite(poolQuery(this.db), statement)),
      'integration',
      id,
      expectedVersion,
    );
    return 'row' in result ? result.row : result.current; // current: nothing to change
  }

  /** Deletes it and returns it as it was (without its configuration). */
  async delete(scope: RequestScope, id: string): Promise<ExternalIntegration> {
    return auditedDelete<ExternalIntegration>(this.db, scope, this.table, 'deleteIntegration', 'integration', id);
  }

  /**
   * Re-encrypts every configuration sealed with another key than the active one (or stored in
   * plaintext before encryption existed): read, re-seal, and write back through the audited path
   * with the version read, so a concurrent change is never overwritten (that row is tried again).
   */
  async rotateSecrets(scope: RequestScope): Promise<{ rotated: number; checked: number }> {
    const ids = await query<{ id: string }>(this.db, `SELECT id FROM external_integrations ORDER BY id`);
    let rotated = 0;
    for (const { id } of ids) {
      for (;;) {
        const [row] = await query<Pick<ExternalIntegration, 'configuration' | 'version'>>(
          this.db,
          `SELECT configuration, version FROM external_integrations WHERE id = $1`,
          [id],
        );
        if (!row || !this.secrets.needsRotation(row.configuration)) break;
        try {
          await this.change(scope, 'rotateSecrets', id, this.sealed(this.secrets.open(row.configuration)), row.version);
          rotated++;
          break;
        } catch (error) {
          if (!(error instanceof ConflictError) && !(error instanceof NotFoundError)) throw error;
          if (error instanceof NotFoundError) break;
        }
      }
    }
    return { rotated, checked: ids.length };
  }

  /** The stored form of a configuration: sealed under the active key, with its masked hint. */
  private sealed(configuration: JSONObject): { configuration: JSONObject; credentialsHint: string | null; hasCredentials: boolean } {
    return {
      configuration: this.secrets.seal(configuration),
      credentialsHint: credentialsHint(configuration),
      hasCredentials: Object.keys(configuration).length > 0,
    };
  }
}
