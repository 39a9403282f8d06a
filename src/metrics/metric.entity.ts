import { Field, ID, Float, ObjectType } from 'type-graphql';
import { Node } from '../graphql/node';
import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeScalar, JSONObjectScalar, type JSONObject } from '../graphql/scalars';

/** DECIMAL(15,6) comes back from pg as a string; numbers in that range are exact as doubles. */
const decimalToNumber = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

@ObjectType({ simpleResolvers: true, implements: Node, description: 'One sample of a system metric.' })
// Partitioned by day on `timestamp` (migration MetricsPartitions): the key holds the partition key.
@Entity({ name: 'system_metrics' })
@Index('idx_system_metrics_name_timestamp', ['name', 'timestamp'])
export class SystemMetric {
  @Field(() => ID, { description: "Global id (Node): the row's UUID." })
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'system_metrics_pkey' })
  id!: string;

  @Field({ description: 'e.g. "database", "gateway", "agent".' })
  @Column({ name: 'metric_category', type: 'varchar', length: 50 })
  category!: string;

  @Field()
  @Column({ name: 'metric_name', type: 'varchar', length: 100 })
  name!: string;

  @Field(() => Float)
  @Column({ name: 'metric_value', type: 'decimal', precision: 15, scale: 6, transformer: decimalToNumber })
  value!: number;

  @Field(() => String, { nullable: true })
  @Column({ name: 'metric_unit', type: 'varchar', length: 20, nullable: true })
  unit!: string | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  @Column({ type: 'jsonb', nullable: true, default: () => "'{}'" })
  dimensions!: JSONObject | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the sample was taken (always set; nullable for compatibility).' })
  @PrimaryColumn({ type: 'timestamptz', default: () => 'now()', primaryKeyConstraintName: 'system_metrics_pkey' })
  timestamp!: Date;
}
