import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for keyset paging: each sort key with the id that breaks its ties, so that a page
 * after a cursor is an index range read from the cursor on (a row comparison `(key, id) > (...)`),
 * whatever the depth. The original design's single-column indexes stay for its own queries.
 */
export class KeysetIndexes1764400000000 implements MigrationInterface {
  name = 'KeysetIndexes1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX idx_tasks_priority_id ON tasks(priority, id)`);
    await q.query(`CREATE INDEX idx_tasks_created_at_id ON tasks(created_at, id)`);
    await q.query(`CREATE INDEX idx_tasks_updated_at_id ON tasks(updated_at, id)`);
    await q.query(`CREATE INDEX idx_tasks_title_id ON tasks(title, id)`);
    await q.query(`CREATE INDEX idx_task_executions_created_id ON task_executions(created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_task_executions_created_id`);
    await q.query(`DROP INDEX idx_tasks_title_id`);
    await q.query(`DROP INDEX idx_tasks_updated_at_id`);
    await q.query(`DROP INDEX idx_tasks_created_at_id`);
    await q.query(`DROP INDEX idx_tasks_priority_id`);
  }
}
