import { In, type DataSource } from 'typeorm';
import type { RequestScope } from '../request';
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

  constructor(private readonly db: DataSource) {}

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

  async create(_scope: RequestScope, input: CreateIntegrationInput): Promise<ExternalIntegration> {
    const repo = this.db.getRepository(ExternalIntegration);
    const { identifiers } = await repo.insert(repo.create({ ...input }));
    return repo.findOneByOrFail({ id: identifiers[0].id });
  }

  async update(_scope: RequestScope, input: UpdateIntegrationInput): Promise<ExternalIntegration> {
    const repo = this.db.getRepository(ExternalIntegration);
    const { id, ...changes } = input;
    if (Object.keys(changes).length > 0) await repo.update({ id }, changes);
    const integration = await repo.findOneBy({ id });
    if (!integration) throw new NotFoundError('integration', id);
    return integration;
  }

  /** ACTIVE or DISABLED in one UPDATE ... RETURNING. */
  async setStatus(_scope: RequestScope, id: string, status: IntegrationStatus): Promise<ExternalIntegration> {
    const { rows } = await run<ExternalIntegration>(
      this.db,
      `UPDATE external_integrations SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${this.returning()}`,
      [id, status],
    );
    if (!rows[0]) throw new NotFoundError('integration', id);
    return rows[0];
  }

  /** Deletes it and returns it as it was (without its configuration). */
  async delete(_scope: RequestScope, id: string): Promise<ExternalIntegration> {
    const { rows } = await run<ExternalIntegration>(this.db, `DELETE FROM external_integrations WHERE id = $1 RETURNING ${this.returning()}`, [id]);
    if (!rows[0]) throw new NotFoundError('integration', id);
    return rows[0];
  }
}
