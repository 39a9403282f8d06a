import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/node';
import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { vocabularyCheck } from '../db/vocabulary';
import { DateTimeScalar, type JSONObject } from '../graphql/scalars';

export enum IntegrationType {
  CODEGEN = 'codegen',
  GITHUB = 'github',
  LINEAR = 'linear',
  CLAUDE = 'claude',
  CUSTOM = 'custom',
}
export enum IntegrationStatus {
  ACTIVE = 'active',
  DISABLED = 'disabled',
}
export enum IntegrationHealth {
  UNKNOWN = 'unknown',
  HEALTHY = 'healthy',
  DEGRADED = 'degraded',
  DOWN = 'down',
}
registerEnumType(IntegrationType, { name: 'IntegrationType' });
registerEnumType(IntegrationStatus, { name: 'IntegrationStatus' });
registerEnumType(IntegrationHealth, { name: 'IntegrationHealth' });

@ObjectType({
  simpleResolvers: true,
  implements: Node,
  description: 'An external service agents talk to. Its configuration holds credentials and is write-only.',
})
@Entity({ name: 'external_integrations' })
@Check('external_integrations_integration_type_check', vocabularyCheck('integration_type', IntegrationType))
@Check('external_integrations_status_check', vocabularyCheck('status', IntegrationStatus))
@Check('external_integrations_health_status_check', vocabularyCheck('health_status', IntegrationHealth))
export class ExternalIntegration {
  @Field(() => ID, { description: "Global id (Node): the row's UUID." })
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'external_integrations_pkey' })
  id!: string;

  @Field(() => IntegrationType)
  @Column({ name: 'integration_type', type: 'varchar', length: 50 })
  type!: IntegrationType;

  @Field()
  @Column({ name: 'integration_name', type: 'varchar', length: 100 })
  name!: string;

  /**
   * Credentials live here, encrypted (an AES-256-GCM envelope with its key id, src/secrets):
   * deliberately no @Field, so no query can read it.
   */
  @Column({ type: 'jsonb' })
  configuration!: JSONObject;

  @Field(() => String, {
    nullable: true,
    description: 'A masked hint of the stored configuration, e.g. "token=••••f3a9"; null when empty.',
  })
  @Column({ name: 'credentials_hint', type: 'varchar', length: 255, nullable: true })
  credentialsHint!: string | null;

  @Field({ description: 'Whether a non-empty configuration (credentials) is stored. The values are never returned.' })
  @Column({ name: 'has_credentials', type: 'boolean', default: false })
  hasCredentials!: boolean;

  @Field(() => IntegrationStatus, { nullable: true })
  @Column({ type: 'varchar', length: 50, nullable: true, default: IntegrationStatus.ACTIVE })
  status!: IntegrationStatus | null;

  @Field(() => IntegrationHealth, { nullable: true })
  @Column({ name: 'health_status', type: 'varchar', length: 20, nullable: true, default: IntegrationHealth.UNKNOWN })
  healthStatus!: IntegrationHealth | null;

  @Field(() => Int, { nullable: true })
  @Column({ name: 'rate_limit_per_minute', type: 'integer', nullable: true, default: 60 })
  rateLimitPerMinute!: number | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', nullable: true })
  createdAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', nullable: true })
  updatedAt!: Date | null;

  @Field(() => Int, {
    description:
      'Bumped by every change through the gateway; pass it as expectedVersion to change the row only if nobody changed it since you read it.',
  })
  @Column({ type: 'integer', default: 1 })
  version!: number;
}
