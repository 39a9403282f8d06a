import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * change_log_add without its advisory lock: writers to tasks, task_executions and system_metrics no
 * longer queue on one lock from their first change to their commit. The readers' contract stays:
 * *a reader that has read every row with seq <= N and reads `seq > N` in seq order never misses a
 * row*, and `seq` stays the bigint cursor (subscriptions, webhooks, resume cursors).
 *
 * How: a writer inserts its row with a time-ordered `id` (a plain sequence) and no `seq`. A
 * sequencer, `change_log_sequence()`, gives the gap-free `seq` to the committed rows that have none,
 * in id order, one sequencer at a time (a transaction-scoped try-lock; a caller that does not get
 * it returns NULL and reads what is already sequenced). Readers call it before they read and read
 * only rows that have a seq (`seq > N` is never true of NULL): the change listener polls with
 * `change_log_read(after, limit)` (the sequencer, then the read, in one statement), and runs it
 * before taking the head; the purge runs it before deleting. Any other consumer of `seq > N` (a
 * webhook dispatcher) does the same, or sees only what other readers numbered.
 *
 * Why no row is missed: the sequencer's UPDATE runs on a snapshot taken after it got the lock, so
 * it sees the previous sequencer's commit and numbers from above its highest seq; its numbers
 * become visible all at once when it commits, before the next sequencer can start. A writer's rows
 * become visible all at once when it commits, and only then can be numbered: a transaction still
 * running (however long) is numbered after it commits, with seqs above every seq given meanwhile.
 * So seqs appear in increasing order, never behind a reader's cursor.
 *
 * Order: seq order is the order in which commits are seen by the sequencer, and id order within
 * one run. A change made after another was committed (the second writer of a row waits for the
 * first one's commit; a writer that read the first one's result) has a higher id and is seen in
 * the same run or a later one, so it never gets a lower seq: per-row and causal order hold, as
 * with the lock. Two concurrent transactions' rows may interleave by id within one run (the lock
 * made each transaction's rows contiguous; nothing reads them as a block).
 *
 * Why not readers that read below `pg_snapshot_xmin(pg_current_snapshot())` with an (xid8, id)
 * cursor, the outbox technique: it changes the cursor clients and webhooks hold, and the snapshot
 * xmin is the cluster's oldest running transaction id, in any database of the server: one
 * transaction left open anywhere (a console, a migration, another application) would hold every
 * delivery back. With the sequencer a long-running transaction delays only its own rows (they are
 * delivered when it commits, like any other), and nothing else waits for it. Rows stay without a
 * seq only while nobody reads (an instance without subscriptions numbers them before its purge).
 *
 * Cost: the writer's INSERT is one index entry more (the partial index of rows without a seq); the
 * sequencer's UPDATE writes each row a second time, in batches, off the writers' path.
 */
export class ChangeLogWithoutLock1767300000000 implements MigrationInterface {
  name = 'ChangeLogWithoutLock1767300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE change_log ADD COLUMN id BIGINT`);
    await q.query(`UPDATE change_log SET id = seq`);
    await q.query(`ALTER TABLE change_log ALTER COLUMN seq DROP DEFAULT`);
    await q.query(`ALTER SEQUENCE change_log_seq_seq RENAME TO change_log_id_seq`);
    await q.query(`ALTER SEQUENCE change_log_id_seq OWNED BY change_log.id`);
    await q.query(`ALTER TABLE change_log ALTER COLUMN id SET DEFAULT nextval('change_log_id_seq'), ALTER COLUMN id SET NOT NULL`);
    await q.query(`ALTER TABLE change_log DROP CONSTRAINT change_log_pkey`);
    await q.query(`ALTER TABLE change_log ALTER COLUMN seq DROP NOT NULL`);
    await q.query(`ALTER TABLE change_log ADD CONSTRAINT change_log_pkey PRIMARY KEY (id)`);
    await q.query(`CREATE UNIQUE INDEX uq_change_log_seq ON change_log (seq) WHERE seq IS NOT NULL`);
    await q.query(`CREATE INDEX idx_change_log_unsequenced ON change_log (id) WHERE seq IS NULL`);

    await q.query(`
      CREATE OR REPLACE FUNCTION change_log_add(p_table text, p_id uuid, p_op text, p_task uuid, p_status text, p_metric text, p_log integer, p_old jsonb)
      RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
      BEGIN
        INSERT INTO change_log (table_name, row_id, operation, task_id, status, metric_name, log_index, old_row)
        VALUES (p_table, p_id, p_op, p_task, p_status, p_metric, p_log, p_old);
      END $fn$`);

    // Each statement of a plpgsql function takes its own snapshot under READ COMMITTED: the max(seq)
    // and the UPDATE see what the previous sequencer committed before this one got the lock.
    await q.query(`
      CREATE FUNCTION change_log_sequence(p_limit integer DEFAULT 10000)
      RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
      DECLARE
        base bigint;
        n bigint;
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'change_log_sequence() needs READ COMMITTED (a fresh snapshot after its lock)';
        END IF;
        IF NOT pg_try_advisory_xact_lock(hashtext('taskmaster_change_log_sequencer')) THEN
          RETURN NULL;
        END IF;
        SELECT greatest(coalesce(max(seq), 0), (SELECT purged_through FROM change_log_state WHERE id = 1)) INTO base FROM change_log;
        UPDATE change_log c SET seq = base + p.n
          FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM change_log WHERE seq IS NULL ORDER BY id LIMIT p_limit) p
         WHERE c.id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $fn$`);
    // A reader's poll in one round trip: number, then read `seq > p_after` on a fresh snapshot
    // (its own numbers included; they commit with the statement, before the caller sees a row).
    await q.query(`
      CREATE FUNCTION change_log_read(p_after bigint, p_limit integer)
      RETURNS SETOF change_log LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM change_log_sequence();
        RETURN QUERY SELECT * FROM change_log WHERE seq > p_after ORDER BY seq LIMIT p_limit;
      END $fn$`);
  }

  /** Back to ChangeLogWithoutNotify1765000000000: seq from a sequence again, under the lock. */
  async down(q: QueryRunner): Promise<void> {
    // No writer in flight (the lock waits for them), then number what is left, in id order.
    await q.query(`LOCK TABLE change_log IN EXCLUSIVE MODE`);
    await q.query(`
      UPDATE change_log c SET seq = b.base + p.n
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM change_log WHERE seq IS NULL) p,
             (SELECT greatest(coalesce(max(seq), 0), (SELECT purged_through FROM change_log_state WHERE id = 1)) AS base FROM change_log) b
       WHERE c.id = p.id`);
    await q.query(`DROP FUNCTION change_log_read(bigint, integer)`);
    await q.query(`DROP FUNCTION change_log_sequence(integer)`);
    await q.query(`
      CREATE OR REPLACE FUNCTION change_log_add(p_table text, p_id uuid, p_op text, p_task uuid, p_status text, p_metric text, p_log integer, p_old jsonb)
      RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('taskmaster_change_log'));
        INSERT INTO change_log (table_name, row_id, operation, task_id, status, metric_name, log_index, old_row)
        VALUES (p_table, p_id, p_op, p_task, p_status, p_metric, p_log, p_old);
      END $fn$`);
    await q.query(`DROP INDEX idx_change_log_unsequenced`);
    await q.query(`DROP INDEX uq_change_log_seq`);
    await q.query(`ALTER TABLE change_log DROP CONSTRAINT change_log_pkey`);
    await q.query(`ALTER TABLE change_log ALTER COLUMN seq SET NOT NULL`);
    await q.query(`ALTER TABLE change_log ADD CONSTRAINT change_log_pkey PRIMARY KEY (seq)`);
    await q.query(`ALTER SEQUENCE change_log_id_seq OWNED BY change_log.seq`);
    await q.query(`ALTER TABLE change_log DROP COLUMN id`);
    await q.query(`ALTER SEQUENCE change_log_id_seq RENAME TO change_log_seq_seq`);
    await q.query(
      `SELECT setval('change_log_seq_seq', greatest((SELECT coalesce(max(seq), 0) FROM change_log), (SELECT purged_through FROM change_log_state WHERE id = 1), 1))`,
    );
    await q.query(`ALTER TABLE change_log ALTER COLUMN seq SET DEFAULT nextval('change_log_seq_seq')`);
  }
}
