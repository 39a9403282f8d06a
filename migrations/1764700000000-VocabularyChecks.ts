import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The vocabularies of the GraphQL enums as this migration knows them (the entities' @Check say the same). */
const VOCABULARIES = [
  {
    table: 'tasks',
    column: 'status',
    constraint: 'tasks_status_check',
    values: ['pending', 'in_progress', 'completed', 'failed', 'cancelled'],
  },
  {
    table: 'task_executions',
    column: 'status',
    constraint: 'task_executions_status_check',
    values: ['pending', 'running', 'succeeded', 'failed', 'cancelled'],
  },
  {
    table: 'external_integrations',
    column: 'integration_type',
    constraint: 'external_integrations_integration_type_check',
    values: ['codegen', 'github', 'linear', 'claude', 'custom'],
  },
  { table: 'external_integrations', column: 'status', constraint: 'external_integrations_status_check', values: ['active', 'disabled'] },
  {
    table: 'external_integrations',
    column: 'health_status',
    constraint: 'external_integrations_health_status_check',
    values: ['unknown', 'healthy', 'degraded', 'down'],
  },
];

/**
 * The database refuses what the API cannot represent: a CHECK constraint on every column that holds
 * an enum's values (agents may write to the database directly). Existing rows are never rewritten:
 * when some hold other values, the migration stops (its transaction rolls back, nothing changes)
 * with each offending value, its count, and how to map it (docs/operations.md "Vocabulary constraints").
 */
export class VocabularyChecks1764700000000 implements MigrationInterface {
  name = 'VocabularyChecks1764700000000';

  async up(q: QueryRunner): Promise<void> {
    const problems: string[] = [];
    for (const v of VOCABULARIES) {
      const rows = (await q.query(
        `SELECT "${v.column}" AS value, count(*)::int AS count FROM ${v.table}
         WHERE "${v.column}" IS NOT NULL AND "${v.column}" <> ALL($1::text[]) GROUP BY 1 ORDER BY 1`,
        [v.values],
      )) as { value: string; count: number }[];
      if (rows.length === 0) continue;
      const found = rows.map((r) => `'${r.value}' (${r.count} row${r.count === 1 ? '' : 's'})`).join(', ');
      problems.push(
        `  ${v.table}.${v.column}: ${found}; allowed: ${v.values.join(', ')}\n` +
          `    map each, e.g.: UPDATE ${v.table} SET "${v.column}" = '${v.values[0]}' WHERE "${v.column}" = '${rows[0].value.replace(/'/g, "''")}';`,
      );
    }
    if (problems.length > 0) {
      throw new Error(
        `VocabularyChecks stopped, nothing was changed: these rows hold values the API cannot represent:\n${problems.join('\n')}\n` +
          `Map every listed value to an allowed one (see docs/operations.md "Vocabulary constraints"), then run the migrations again.`,
      );
    }
    for (const v of VOCABULARIES) {
      const list = v.values.map((value) => `'${value}'`).join(', ');
      await q.query(`ALTER TABLE ${v.table} ADD CONSTRAINT ${v.constraint} CHECK ("${v.column}" IN (${list}))`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const v of [...VOCABULARIES].reverse()) await q.query(`ALTER TABLE ${v.table} DROP CONSTRAINT ${v.constraint}`);
  }
}
