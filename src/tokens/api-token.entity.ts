import { Field, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeScalar, UUIDScalar } from '../graphql/scalars';
import { Role } from '../auth/roles';

/** An API token issued by the gateway. Only its SHA-256 hash is stored; the token is shown once. */
@ObjectType({ simpleResolvers: true, description: 'An API token issued by the gateway (its secret is shown only once, when created).' })
@Entity({ name: 'api_tokens' })
@Index('idx_api_tokens_token_hash', ['tokenHash'], { unique: true })
export class ApiToken {
  @Field(() => UUIDScalar)
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'api_tokens_pkey' })
  id!: string;

  @Field()
  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Field(() => Role)
  @Column({ type: 'varchar', length: 20 })
  role!: Role;

  /** Hex SHA-256 of the token: never exposed. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  @Field({ description: 'The first characters of the token, to recognise it (e.g. tmg_AbCd).' })
  @Column({ name: 'token_prefix', type: 'varchar', length: 16 })
  tokenPrefix!: string;

  @Field({ description: 'Who issued it: a token id, JWT subject or command.' })
  @Column({ name: 'created_by', type: 'varchar', length: 255 })
  createdBy!: string;

  @Field(() => DateTimeScalar)
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'After this the token is refused; null: never expires.' })
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Last request made with it (updated at most once a minute).' })
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
