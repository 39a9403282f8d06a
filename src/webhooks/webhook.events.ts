import { getMetadataStorage } from 'type-graphql';
import type { DataSource, EntityTarget } from 'typeorm';
import { Params } from '../db/sql';
import { ExecutionStatus } from '../executions/execution.entity';
import { LEASE_EXPIRED } from '../executions/lease';
import { CHANGE_COLUMNS, toChangeEvent, type ChangeEvent } from '../subscriptions/change-log';
import { taskFilterSql, type TaskFilter } from '../tasks/task.query';

/** The event types, as each delivery's `type` carries them. */
export const EVENT_TYPES = [
  'task.created',
  'task.updated',
  'task.status_changed',
  'task.deleted',
  'execution.created',
  'execution.updated',
  'execution.finished',
  'execution.lease_expired',
  'execution.deleted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const FINAL: readonly string[] = [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED];

/** The webhook-id of the event at this change-log seq: the same for every attempt and endpoint. */
export const messageId = (seq: number) => `msg_${seq}`;

/**
 * What a change is, from the change-log row and the row's status before it (change_log carries
 * only the new one). Log appends and metrics are no webhook events.
 */
export function classify(change: ChangeEvent, before: string | null | undefined): EventType | null {
  if (change.operation === 'LOG') return null;
  if (change.table === 'tasks') {
    if (change.operation === 'INSERT') return 'task.created';
    if (change.operation === 'DELETE') return 'task.deleted';
    return before !== undefined && before !== change.status ? 'task.status_changed' : 'task.updated';
  }
  if (change.table === 'task_executions') {
    if (change.operation === 'INSERT') return 'execution.created';
    if (change.operation === 'DELETE') return 'execution.deleted';
    const finishing = FINAL.includes(change.status ?? '') && before !== undefined && !FINAL.includes(before ?? '');
    return finishing ? 'execution.finished' : 'execution.updated';
  }
  return null;
}

/** A column as the GraphQL type shows it: its property name, and whether it is an enum (UPPER_SNAKE). */
interface Shown {
  property: string;
  column: string;
  type: string;
  isEnum: boolean;
}

/**
 * Turns a row as PostgreSQL's to_jsonb gives it (snake_case columns) into the object the GraphQL
 * API answers: camelCase fields, only those that are GraphQL fields (so never lease_token_hash),
 * enums in UPPER_SNAKE, timestamps as ISO-8601 in UTC, decimals as numbers.
 */
export class RowShape {
  private readonly shown: Shown[];

  constructor(db: DataSource, entity: EntityTarget<unknown> & (new () => unknown)) {
    const fields = new Map(
      getMetadataStorage()
        .fields.filter((f) => f.target === entity)
        .map((f) => [f.name, f]),
    );
    this.shown = db
      .getMetadata(entity)
      .columns.filter((c) => fields.has(c.propertyName))
      .map((c) => {
        const type = fields.get(c.propertyName)!.getType();
        const isEnum = typeof type === 'object' && type !== null && !('serialize' in type) && !Array.isArray(type);
        return { property: c.propertyName, column: c.databaseName, type: String(c.type), isEnum };
      });
  }

  of(row: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const s of this.shown) {
      const v = row[s.column];
      out[s.property] =
        v == null
          ? null
          : s.isEnum
            ? (v as string).toUpperCase()
            : s.type === 'timestamptz'
              ? new Date(v as string).toISOString()
              : s.type === 'decimal'
                ? Number(v)
                : v;
    }
    return out;
  }
}

export interface ActiveWebhook {
  id: string;
  events: string[];
  filter: TaskFilter | null;
}

export interface QueuedDelivery {
  webhookId: string;
  seq: number;
  type: EventType;
  body: string;
  occurredAt: Date;
}

type Run = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** Change-log rows read per fan-out pass. */
export const FAN_OUT_PAGE = 500;

/**
 * One pass of the fan-out, inside the caller's transaction (which holds webhook_dispatch's row):
 * the change-log rows after `after` in seq order, classified against webhook_row_status (updated
 * in the same transaction), turned into one delivery per matching active endpoint with the row as
 * it is now (the row as it was, for a deletion). Returns the deliveries and the last seq read.
 */
export async function fanOut(
  run: Run,
  shapes: { task: RowShape; execution: RowShape },
  after: number,
  webhooks: ActiveWebhook[],
): Promise<{ deliveries: QueuedDelivery[]; lastSeq: number; read: number }> {
  const rows = await run(`SELECT ${CHANGE_COLUMNS} FROM change_log WHERE seq > $1 ORDER BY seq LIMIT ${FAN_OUT_PAGE}`, [after]);
  const changes = rows.map(toChangeEvent).filter((c) => c.table !== 'system_metrics' && c.operation !== 'LOG');
  const lastSeq = rows.length > 0 ? Number(rows[rows.length - 1].seq) : after;
  if (changes.length === 0) return { deliveries: [], lastSeq, read: rows.length };

  // statuses before this page, then walked forward change by change
  const ids = [...new Set(changes.map((c) => c.rowId))];
  const known = new Map<string, string | null>(
    (await run(`SELECT row_id::text AS id, status FROM webhook_row_status WHERE row_id = ANY($1::uuid[])`, [ids])).map((r) => [
      r.id as string,
      r.status as string | null,
    ]),
  );
  const typed: { change: ChangeEvent; type: EventType }[] = [];
  for (const change of changes) {
    const type = classify(change, known.has(change.rowId) ? known.get(change.rowId) : undefined);
    if (change.operation === 'DELETE') known.delete(change.rowId);
    else known.set(change.rowId, change.status);
    if (type) typed.push({ change, type });
  }
  const gone = ids.filter((id) => !known.has(id));
  const kept = ids.filter((id) => known.has(id));
  if (gone.length > 0) await run(`DELETE FROM webhook_row_status WHERE row_id = ANY($1::uuid[])`, [gone]);
  if (kept.length > 0)
    await run(
      `INSERT INTO webhook_row_status (row_id, status) SELECT * FROM unnest($1::uuid[], $2::varchar[])
       ON CONFLICT (row_id) DO UPDATE SET status = excluded.status`,
      [kept, kept.map((id) => known.get(id) ?? null)],
    );

  // a finish may turn out to be a lease expiry (known from the row): wanted by either
  const wants = (w: ActiveWebhook, type: EventType) =>
    w.events.includes(type) || (type === 'execution.finished' && w.events.includes('execution.lease_expired'));
  const wanted = typed.filter((t) => webhooks.some((w) => wants(w, t.type)));
  if (wanted.length === 0) return { deliveries: [], lastSeq, read: rows.length };

  // the rows as they are now, one statement per table
  const current = async (table: string, which: string[]) =>
    which.length === 0
      ? new Map<string, Record<string, unknown>>()
      : new Map(
          (await run(`SELECT id::text AS id, to_jsonb(r) AS row FROM ${table} r WHERE r.id = ANY($1::uuid[])`, [which])).map((r) => [
            r.id as string,
            r.row as Record<string, unknown>,
          ]),
        );
  const live = (table: string) => [
    ...new Set(wanted.filter((t) => t.change.table === table && t.change.operation !== 'DELETE').map((t) => t.change.rowId)),
  ];
  const tasks = await current('tasks', live('tasks'));
  const executions = await current('task_executions', live('task_executions'));

  // the events' tasks that pass each filter (the task now, or as it was for a deleted one)
  const passing = new Map<string, Set<string>>();
  for (const w of webhooks.filter((x) => x.filter)) {
    const taskIds = [...new Set(wanted.map((t) => t.change.taskId).filter((id): id is string => id != null))];
    const images = wanted.filter((t) => t.change.table === 'tasks' && t.change.operation === 'DELETE').map((t) => t.change.oldRow);
    const p = new Params();
    const idList = p.add(taskIds);
    const imageList = p.json(images);
    const where = taskFilterSql(w.filter, p) ?? 'TRUE';
    const ok = await run(
      `SELECT t.id::text AS id FROM tasks t WHERE t.id = ANY(${idList}::uuid[]) AND ${where}
       UNION SELECT t.id::text FROM jsonb_array_elements(${imageList}) j, jsonb_populate_record(NULL::tasks, j) t WHERE ${where}`,
      p.values,
    );
    passing.set(w.id, new Set(ok.map((r) => r.id as string)));
  }

  const deliveries: QueuedDelivery[] = [];
  for (const { change, type } of wanted) {
    const image = change.operation === 'DELETE' ? change.oldRow : (change.table === 'tasks' ? tasks : executions).get(change.rowId);
    // gone since (a later change in the log deleted it): its *.deleted event carries the last image
    if (!image) continue;
    const shape = change.table === 'tasks' ? shapes.task : shapes.execution;
    const data = shape.of(image);
    let eventType = type;
    if (type === 'execution.finished' && (image.error_details as { reason?: string } | null)?.reason === LEASE_EXPIRED)
      eventType = 'execution.lease_expired';
    const occurredAt = new Date(change.occurredAt);
    const body = JSON.stringify({ type: eventType, timestamp: occurredAt.toISOString(), data });
    for (const w of webhooks) {
      if (!w.events.includes(eventType)) continue;
      if (w.filter && !(change.taskId && passing.get(w.id)?.has(change.taskId))) continue;
      deliveries.push({ webhookId: w.id, seq: change.seq, type: eventType, body, occurredAt });
    }
  }
  return { deliveries, lastSeq, read: rows.length };
}
