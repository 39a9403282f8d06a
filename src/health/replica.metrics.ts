import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReplicaSet } from '../db/replicas';

const STATES = ['UP', 'LAGGING', 'DOWN', 'CONNECTING'] as const;

/** The read replicas as /metrics series, read from the set's own figures at each scrape (no statement). */
export function registerReplicaMetrics(registry: Registry, replicas: ReplicaSet): void {
  const perReplica = (name: string, help: string, value: (s: ReturnType<ReplicaSet['snapshot']>[number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['replica'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of replicas.snapshot()) {
          const v = value(s);
          if (v !== null) this.set({ replica: s.name }, v);
        }
      },
    });
  new Gauge({
    name: 'taskmaster_db_replica_state',
    help: 'Read replica state: 1 for the state it is in (UP is in rotation).',
    labelNames: ['replica', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of replicas.snapshot()) for (const state of STATES) this.set({ replica: s.name, state }, s.state === state ? 1 : 0);
    },
  });
  perReplica(
    'taskmaster_db_replica_lag_seconds',
    'Seconds since the primary wrote the oldest WAL the replica has not replayed.',
    (s) => s.lagSeconds,
  );
  perReplica('taskmaster_db_replica_lag_bytes', "Bytes of the primary's WAL the replica has not replayed.", (s) => s.lagBytes);
  perReplica('taskmaster_db_replica_pool_connections', "Connections open in the gateway's pool to the replica.", (s) => s.pool.total);
  new Counter({
    name: 'taskmaster_db_replica_reads_total',
    help: 'Read statements answered by each replica since start.',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of replicas.snapshot()) this.inc({ replica: s.name }, s.readsServed);
    },
  });
  const total = (name: string, help: string, value: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  total(
    'taskmaster_db_replica_primary_reads_total',
    'Query reads the primary answered (no replica in rotation or caught up, or one failed).',
    () => replicas.primaryReads,
  );
  total('taskmaster_db_replica_fallbacks_total', 'Reads a replica failed and the primary answered.', () => replicas.fallbacks);
  total(
    'taskmaster_db_replica_wait_timeouts_total',
    'Read-after waits that reached DB_REPLICA_WAIT_MS (the primary answered).',
    () => replicas.waitTimeouts,
  );
}
