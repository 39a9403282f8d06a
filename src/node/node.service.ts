import type { DataSource } from 'typeorm';
import { query } from '../db/rows';

/** The tables whose rows are Relay nodes, by GraphQL type name. */
export const NODE_TABLES = {
  Task: 'tasks',
  TaskExecution: 'task_executions',
  ExternalIntegration: 'external_integrations',
  SystemMetric: 'system_metrics',
} as const;
export type NodeTypeName = keyof typeof NODE_TABLES;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Which table holds each global id: one UNION ALL statement for all of them. */
export class NodeService {
  constructor(private readonly db: DataSource) {}

  async typesOf(ids: readonly string[]): Promise<Map<string, NodeTypeName>> {
    const wanted = [...new Set(ids.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()))];
    if (wanted.length === 0) return new Map();
    const sql = Object.entries(NODE_TABLES)
      .map(([type, table]) => `SELECT id::text AS id, '${type}' AS type FROM ${table} WHERE id = ANY($1::uuid[])`)
      .join(' UNION ALL ');
    const rows = await query<{ id: string; type: NodeTypeName }>(this.db, sql, [wanted]);
    return new Map(rows.map((r) => [r.id, r.type]));
  }
}
