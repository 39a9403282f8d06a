import { In, type DataSource } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestScope } from '../request';
import type { JSONObject } from '../graphql/scalars';
import { credentialsHint, type SecretBox } from '../secrets/secret-box';
import { NotFoundError } from '../errors';
import { ExternalIntegration } from './integration.entity';
import type { CreateIntegrationInput, UpdateIntegrationInput } from './integration.inputs';

export class IntegrationService {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly secrets: SecretBox,
  ) {}

  findByIds(ids: readonly string[]): Promise<ExternalIntegration[]> {
    return this.db.getRepository(ExternalIntegration).findBy({ id: In([...ids]) });
  }

  list(first: number): Promise<ExternalIntegration[]> {
    return this.db.getRepository(ExternalIntegration).find({ order: { createdAt: 'DESC', id: 'DESC' }, take: first });
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
