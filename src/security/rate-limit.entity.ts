import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Cost spent by one budget key in one minute window. Kept in PostgreSQL (not process memory) so
 * that every gateway instance on the database counts against the same budget.
 */
@Entity({ name: 'rate_limit_windows' })
@Index('idx_rate_limit_windows_start', ['windowStart'])
export class RateLimitWindow {
  @PrimaryColumn({ name: 'budget_key', type: 'varchar', length: 300, primaryKeyConstraintName: 'rate_limit_windows_pkey' })
  budgetKey!: string;

  @PrimaryColumn({ name: 'window_start', type: 'timestamptz', primaryKeyConstraintName: 'rate_limit_windows_pkey' })
  windowStart!: Date;

  @Column({ type: 'integer', default: 0 })
  spent!: number;
}
