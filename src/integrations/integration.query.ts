import { Field, InputType } from 'type-graphql';
import { newestFirst } from '../db/reads/keyset';
import { inListSql } from '../graphql/filters';
import { likePattern, type Params } from '../db/sql';
import { IntegrationHealth, IntegrationStatus, IntegrationType } from './integration.entity';

@InputType({ description: 'Which integrations to return; the conditions given must all hold.' })
export class IntegrationFilter {
  @Field(() => [IntegrationType], { nullable: true }) type?: IntegrationType[] | null;
  @Field(() => [IntegrationStatus], { nullable: true }) status?: IntegrationStatus[] | null;
  @Field(() => [IntegrationHealth], { nullable: true }) healthStatus?: IntegrationHealth[] | null;
  @Field(() => String, { nullable: true, description: 'Case-insensitive text in the name.' }) search?: string | null;
}

export const INTEGRATION_ORDERING = newestFirst('integration', 'i', 'created_at');

export function integrationFilterSql(f: IntegrationFilter | null | undefined, p: Params): string[] {
  if (!f) return [];
  const c: string[] = [];
  if (f.type != null) c.push(inListSql('i.integration_type', f.type, p));
  if (f.status != null) c.push(inListSql('i.status', f.status, p));
  if (f.healthStatus != null) c.push(inListSql('i.health_status', f.healthStatus, p));
  if (f.search != null) c.push(`i.integration_name ILIKE ${p.add(likePattern(f.search.slice(0, 200)))}`);
  return c;
}
