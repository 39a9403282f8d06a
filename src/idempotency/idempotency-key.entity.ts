import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { JSONValue } from '../graphql/scalars';

/**
 * One idempotency key of one principal for one mutation field (its response key: alias or name).
 * The primary key decides races: the first INSERT wins, a racer waits on it and then reads the
 * stored answer. Rows past `expires_at` are free again and are deleted periodically.
 */
@Entity({ name: 'idempotency_keys' })
@Index('idx_idempotency_keys_expires_at', ['expiresAt'])
export class IdempotencyKey {
  @PrimaryColumn({ type: 'varchar', length: 300, primaryKeyConstraintName: 'idempotency_keys_pkey' })
  principal!: string;

  @PrimaryColumn({ name: 'idempotency_key', type: 'varchar', length: 255, primaryKeyConstraintName: 'idempotency_keys_pkey' })
  key!: string;

  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'idempotency_keys_pkey' })
  scope!: string;

  @Column({ type: 'varchar', length: 100 })
  operation!: string;

  /** SHA-256 of the operation and its input (the key itself left out). */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash!: string;

  /** The first answer, replayed to every repeat; null until the write commits (never visible so). */
  @Column({ type: 'jsonb', nullable: true })
  response!: JSONValue;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
