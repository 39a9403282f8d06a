import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../graphql/scalars';

export enum HealthStatus {
  HEALTHY = 'HEALTHY',
  DEGRADED = 'DEGRADED',
  UNHEALTHY = 'UNHEALTHY',
}
registerEnumType(HealthStatus, {
  name: 'HealthStatus',
  description: 'HEALTHY: all within thresholds. DEGRADED: serving, but a threshold is crossed. UNHEALTHY: the database cannot be reached.',
});

@ObjectType({ simpleResolvers: true, description: "The gateway's connection pool, from the pg pool's own counters." })
export class PoolStats {
  @Field(() => Int, { description: 'Connections open (idle + active).' }) total!: number;
  @Field(() => Int, { description: 'Open connections not in use.' }) idle!: number;
  @Field(() => Int, { description: 'Connections checked out by a query or transaction.' }) active!: number;
  @Field(() => Int, { description: 'Requests queued for a connection (the pool is exhausted).' }) waiting!: number;
  @Field(() => Int, { description: 'DB_POOL_MAX.' }) max!: number;
  @Field(() => Int, { description: 'DB_POOL_MIN: idle connections kept open once opened (pg opens connections only as needed).' })
  min!: number;
  @Field(() => Float, { description: 'active / max, in percent.' }) utilizationPercent!: number;
}

@ObjectType({
  simpleResolvers: true,
  description: 'The database as seen through a dedicated connection (never the pool), within a deadline.',
})
export class DatabaseStats {
  @Field({ description: 'Whether `SELECT 1` answered within the deadline.' }) connected!: boolean;
  @Field(() => Float, { nullable: true, description: 'Round trip of `SELECT 1`, ms; null when not connected.' })
  responseTimeMs!: number | null;
  @Field(() => String, { nullable: true }) serverVersion!: string | null;
  @Field(() => Float, { nullable: true, description: 'pg_database_size of the gateway database.' }) sizeBytes!: number | null;
  @Field(() => Int, { nullable: true, description: 'Client connections to the server (pg_stat_activity).' }) connections!: number | null;
  @Field(() => Int, { nullable: true, description: 'The server setting max_connections.' }) maxConnections!: number | null;
  @Field(() => Float, {
    nullable: true,
    description: 'Share of block reads served from shared buffers since the statistics reset, 0 to 1.',
  })
  cacheHitRatio!: number | null;
  @Field(() => Float, { nullable: true, description: 'Deadlocks detected in this database since the statistics reset.' }) deadlocks!:
    number | null;
  @Field(() => Float, { nullable: true, description: 'Age of the oldest statement now running in this database, seconds (0 when none).' })
  longestQuerySeconds!: number | null;
}

@ObjectType({ simpleResolvers: true })
export class MigrationStats {
  @Field(() => Int, { nullable: true, description: 'Migrations recorded as applied; null when the database cannot be read.' }) applied!:
    number | null;
  @Field(() => [String], { description: 'Names of migrations this gateway knows but the database has not applied.' }) pending!: string[];
}

@ObjectType({
  simpleResolvers: true,
  description: 'A read replica (DATABASE_REPLICA_URLS): queries read from the replicas in rotation, mutations from the primary.',
})
export class ReplicaStats {
  @Field({ description: 'host:port of the replica (no credentials).' }) name!: string;
  @Field({
    description:
      'UP (in rotation), LAGGING (replay lag over DB_REPLICA_MAX_LAG_MS: out of rotation), DOWN (unreachable or failing: out of rotation), CONNECTING (not checked yet).',
  })
  state!: string;
  @Field(() => Float, {
    nullable: true,
    description:
      'Seconds since the primary wrote the oldest WAL the replica has not replayed (0 when caught up); null before the first check.',
  })
  lagSeconds!: number | null;
  @Field(() => Float, { nullable: true, description: "Bytes of the primary's WAL not yet replayed; null before the first check." })
  lagBytes!: number | null;
  @Field(() => PoolStats, { description: "The gateway's connection pool to this replica." }) pool!: PoolStats;
  @Field(() => Float, { description: 'Statements this replica answered since the gateway started.' }) readsServed!: number;
  @Field(() => String, { nullable: true, description: 'Why it was last taken out of rotation (an error code, no address).' })
  lastError!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A table that grows, and what retention keeps of it (src/retention/).' })
export class StoreStats {
  @Field({ description: 'The table (a partitioned one counts all its partitions).' }) store!: string;
  @Field(() => Float, { nullable: true, description: 'pg_total_relation_size over its partitions; null when it could not be read.' })
  sizeBytes!: number | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "The oldest row's time; null when empty or unreadable." })
  oldestAt!: Date | null;
}

@ObjectType({ simpleResolvers: true, description: 'The limits in force (HEALTH_* variables).' })
export class HealthThresholdsInfo {
  @Field(() => Int) responseTimeMs!: number;
  @Field(() => Int) poolUtilizationPercent!: number;
  @Field(() => Int) errorRatePercent!: number;
  @Field(() => Int, { description: 'How long a check waits for the database before calling it down, ms.' }) checkTimeoutMs!: number;
}

@ObjectType({
  simpleResolvers: true,
  description: 'The dedicated connection that reads the change log for GraphQL subscriptions (never from the pool).',
})
export class ListenerStats {
  @Field({ description: 'CONNECTING, LISTENING (connected), RECONNECTING (lost; retrying with backoff) or STOPPED.' }) status!: string;
  @Field(() => Float, { description: 'The highest change-log seq read.' }) lastSeq!: number;
  @Field(() => Int, { description: 'Connections made again after losing one.' }) reconnects!: number;
  @Field(() => DateTimeScalar, { nullable: true }) listeningSince!: Date | null;
  @Field(() => String, { nullable: true, description: 'Why the last connection failed (an error code, no address).' }) lastError!:
    string | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'Connection-pool and database health. Answers within HEALTH_CHECK_TIMEOUT_MS even when the database is down.',
})
export class PoolHealth {
  @Field(() => HealthStatus) status!: HealthStatus;
  @Field(() => [String], { description: 'Why the status is not HEALTHY (empty when it is).' }) reasons!: string[];
  @Field(() => PoolStats) pool!: PoolStats;
  @Field(() => DatabaseStats) database!: DatabaseStats;
  @Field(() => MigrationStats) migrations!: MigrationStats;
  @Field(() => [ReplicaStats]) replicas!: ReplicaStats[];
  @Field(() => HealthThresholdsInfo) thresholds!: HealthThresholdsInfo;
  @Field(() => ListenerStats, {
    nullable: true,
    description: 'The change-log connection of GraphQL subscriptions; null when this gateway runs none.',
  })
  listener!: ListenerStats | null;
  @Field(() => [StoreStats], {
    description: 'The tables that grow (metrics, rollups, audit log, change log): size and oldest row, read at most once a minute.',
  })
  stores?: StoreStats[];
  @Field(() => DateTimeScalar) checkedAt!: Date;
}
