import { In, type DataSource } from 'typeorm';
import { auditedStatement } from '../audit/audited-statement';
import type { AuditService } from '../audit/audit.service';
import type { RequestScope } from '../request';
import type { JSONObject } from '../graphql/scalars';
import { credentialsHint, type SecretBox } from '../secrets/secret-box';
import { NotFoundError } from '../errors';
import { fetchPage, planPage, type Connection, type ConnectionArgs } from '../graphql/connection';
import { columnMap, ident, Params, run, selectList } from '../graphql/sql';
import { ExternalIntegration, IntegrationStatus } from './integration.entity';
import type { CreateIntegrationInput, UpdateIntegrationInput } from './integration.inputs';
import { INTEGRATION_ORDERING, integrationFilterSql, type IntegrationFilter } from './integration.query';

export interface IntegrationPageQuery {
  args: ConnectionArgs;
  filter?: IntegrationFilter | null;
  fields: Iterable<string>;
  withTotal: boolean;
}

export class IntegrationService {
  private cols?: Map<string, string>;

  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly secrets: SecretBox,
  ) {}

  private get columns(): Map<string, string> {
    return (this.cols ??= columnMap(this.db, ExternalIntegration));
  }

  /** Every column but `configuration`: credentials never leave the database. */
  private returning(): string {
    return [...this.columns]
      .filter(([prop]) => prop !== 'configuration')
      .map(([prop, col]) => `${ident(col)} AS ${ident(prop)}`)
      .join(', ');
  }

  findByIds(ids: readonly string[]): Promise<ExternalIntegration[]> {
    return this.db.getRepository(ExternalIntegration).findBy({ id: In([...ids]) });
  }

  async page(q: IntegrationPageQuery): Promise<Connection<ExternalIntegration>> {
    const plan = planPage(q.args, INTEGRATION_ORDERING);
    const params = new Params();
    const where = integrationFilterSql(q.filter, params);
    const fields = [...q.fields].filter((f) => f !== 'configuration');
    const select = selectList(this.columns, 'i', ['id', ...fields]);
    return fetchPage<ExternalIntegration>(this.db, { from: 'external_integrations i', select, where, params, ordering: INTEGRATION_ORDERING }, plan, q.withTotal);
  }

  async create(scope: RequestScope, input: CreateIntegrationInput): Promise<ExternalIntegration> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(ExternalIntegration);
      const { identifiers } = await repo.insert(repo.create({ ...input, ...this.sealed(input.configuration) }));
      const integration = await repo.findOneByOrFail({ id: identifiers[0].id });
      await this.audit.record(tx, scope, { operation: 'createIntegration', entity: 'external_integration', entityId: integration.id, before: null, after: integration });
      return integration;
    });
  }

  async update(scope: RequestScope, input: UpdateIntegrationInput): Promise<ExternalIntegration> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(ExternalIntegration);
      const { id, configuration, ...changes } = input;
      const before = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!before) throw new NotFoundError('integration', id);
      const update = { ...changes, ...(configuration !== undefined ? this.sealed(configuration) : {}) };
      if (Object.keys(update).length > 0) await repo.update({ id }, update);
      const after = await repo.findOneByOrFail({ id });
      await this.audit.record(tx, scope, { operation: 'updateIntegration', entity: 'external_integration', entityId: id, before, after });
      return after;
    });
  }

  /** ACTIVE or DISABLED in one UPDATE ... RETURNING (its audit row written by the same statement). */
  async setStatus(scope: RequestScope, id: string, status: IntegrationStatus): Promise<ExternalIntegration> {
    const audited = auditedStatement(scope, {
      sql: `UPDATE external_integrations SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${this.returning()}`,
      beforeSql: `SELECT ${this.returning()} FROM external_integrations WHERE id = $1`,
      params: [id, status],
      operation: status === IntegrationStatus.ACTIVE ? 'enableIntegration' : 'disableIntegration',
      entity: 'external_integration',
      kind: 'update',
    });
    const { rows } = await run<ExternalIntegration>(this.db, audited.sql, audited.params);
    if (!rows[0]) throw new NotFoundError('integration', id);
    return rows[0];
  }

  /** Deletes it and returns it as it was (without its configuration). */
  async delete(scope: RequestScope, id: string): Promise<ExternalIntegration> {
    const audited = auditedStatement(scope, {
      sql: `DELETE FROM external_integrations WHERE id = $1 RETURNING ${this.returning()}`,
      params: [id],
      operation: 'deleteIntegration',
      entity: 'external_integration',
      kind: 'delete',
    });
    const { rows } = await run<ExternalIntegration>(this.db, audited.sql, audited.params);
    if (!rows[0]) throw new NotFoundError('integration', id);
    return rows[0];
  }

  /**
   * Re-encrypts every configuration sealed with another key than the active one (or stored in
   * plaintext before encryption existed). One transaction per row; each rotation is audited.
   */
  async rotateSecrets(scope: RequestScope): Promise<{ rotated: number; checked: number }> {
    const ids = (await this.db.getRepository(ExternalIntegration).find({ select: { id: true }, order: { id: 'ASC' } })).map((r) => r.id);
    let rotated = 0;
    for (const id of ids) {
      rotated += await this.db.transaction(async (tx) => {
        const repo = tx.getRepository(ExternalIntegration);
        const row = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
        if (!row || !this.secrets.needsRotation(row.configuration)) return 0;
        const plain = this.secrets.open(row.configuration);
        await repo.update({ id }, this.sealed(plain));
        const after = await repo.findOneByOrFail({ id });
        await this.audit.record(tx, scope, { operation: 'rotateSecrets', entity: 'external_integration', entityId: id, before: row, after });
        return 1;
      });
    }
    return { rotated, checked: ids.length };
  }

  /** The stored form of a configuration: sealed under the active key, with its masked hint. */
  private sealed(configuration: JSONObject): { configuration: JSONObject; credentialsHint: string | null; hasCredentials: boolean } {
    return {
      configuration: this.secrets.seal(configuration) as JSONObject,
      credentialsHint: credentialsHint(configuration),
      hasCredentials: Object.keys(configuration).length > 0,
    };
  }
}
