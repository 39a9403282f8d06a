import { In, type DataSource } from 'typeorm';
import type { RequestScope } from '../request';
import { NotFoundError } from '../errors';
import { ExternalIntegration } from './integration.entity';
import type { CreateIntegrationInput, UpdateIntegrationInput } from './integration.inputs';

export class IntegrationService {
  constructor(private readonly db: DataSource) {}

  findByIds(ids: readonly string[]): Promise<ExternalIntegration[]> {
    return this.db.getRepository(ExternalIntegration).findBy({ id: In([...ids]) });
  }

  list(first: number): Promise<ExternalIntegration[]> {
    return this.db.getRepository(ExternalIntegration).find({ order: { createdAt: 'DESC', id: 'DESC' }, take: first });
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
}
