import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The schema of the original design, table for table and index for index. Column names stay
 * snake_case so SQL written by hand and by CI tools fits. Constraint names are PostgreSQL's own
 * defaults, and the entities name them the same, so TypeORM's schema diff stays empty.
 */
export class InitialSchema1764300000000 implements MigrationInterface {
  name = 'InitialSchema1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // gen_random_uuid() is built in from PostgreSQL 13 on: no extension needed.
    await q.query(`
      CREATE TABLE tasks (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        title VARCHAR(255) NOT NULL,
        description TEXT,
        type VARCHAR(50) NOT NULL DEFAULT 'general',
        status VARCHAR(50) NOT NULL DEFAULT 'pending',
        priority INTEGER DEFAULT 0,
        complexity_score INTEGER DEFAULT 5,
        requirements JSONB DEFAULT '{}',
        acceptance_criteria JSONB DEFAULT '[]',
        parent_task_id UUID,
        assigned_to VARCHAR(255),
        created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
        completed_at TIMESTAMP WITH TIME ZONE,
        metadata JSONB DEFAULT '{}',
        CONSTRAINT tasks_pkey PRIMARY KEY (id),
        CONSTRAINT tasks_parent_task_id_fkey FOREIGN KEY (parent_task_id) REFERENCES tasks(id)
      )`);

    await q.query(`
      CREATE TABLE task_executions (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        task_id UUID,
        agent_type VARCHAR(50) NOT NULL,
        agent_config JSONB DEFAULT '{}',
        status VARCHAR(50) NOT NULL DEFAULT 'pending',
        logs JSONB DEFAULT '[]',
        error_details JSONB,
        started_at TIMESTAMP WITH TIME ZONE,
        completed_at TIMESTAMP WITH TIME ZONE,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
        CONSTRAINT task_executions_pkey PRIMARY KEY (id),
        CONSTRAINT task_executions_task_id_fkey FOREIGN KEY (task_id) REFERENCES tasks(id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE external_integrations (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        integration_type VARCHAR(50) NOT NULL,
        integration_name VARCHAR(100) NOT NULL,
        configuration JSONB NOT NULL,
        status VARCHAR(50) DEFAULT 'active',
        health_status VARCHAR(20) DEFAULT 'unknown',
        rate_limit_per_minute INTEGER DEFAULT 60,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
        updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
        CONSTRAINT external_integrations_pkey PRIMARY KEY (id)
      )`);

    await q.query(`
      CREATE TABLE system_metrics (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        metric_category VARCHAR(50) NOT NULL,
        metric_name VARCHAR(100) NOT NULL,
        metric_value DECIMAL(15,6) NOT NULL,
        metric_unit VARCHAR(20),
        dimensions JSONB DEFAULT '{}',
        timestamp TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
        CONSTRAINT system_metrics_pkey PRIMARY KEY (id)
      )`);

    // The original design's indexes...
    await q.query(`CREATE INDEX idx_tasks_status ON tasks(status)`);
    await q.query(`CREATE INDEX idx_tasks_priority ON tasks(priority)`);
    await q.query(`CREATE INDEX idx_tasks_assigned_to ON tasks(assigned_to)`);
    await q.query(`CREATE INDEX idx_tasks_created_at ON tasks(created_at)`);
    await q.query(`CREATE INDEX idx_tasks_status_priority ON tasks(status, priority)`);
    await q.query(`CREATE INDEX idx_tasks_assigned_status ON tasks(assigned_to, status)`);
    await q.query(`CREATE INDEX idx_tasks_requirements_gin ON tasks USING GIN(requirements)`);
    await q.query(`CREATE INDEX idx_tasks_metadata_gin ON tasks USING GIN(metadata)`);
    // ...and the ones its queries need: subtasks, a task's executions, a metric's series.
    await q.query(`CREATE INDEX idx_tasks_parent_task_id ON tasks(parent_task_id)`);
    await q.query(`CREATE INDEX idx_task_executions_task_created ON task_executions(task_id, created_at)`);
    await q.query(`CREATE INDEX idx_system_metrics_name_timestamp ON system_metrics(metric_name, timestamp)`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Dropping a table drops its indexes and constraints with it.
    await q.query(`DROP TABLE system_metrics`);
    await q.query(`DROP TABLE external_integrations`);
    await q.query(`DROP TABLE task_executions`);
    await q.query(`DROP TABLE tasks`);
  }
}
