import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { auditedStatement, outcomeOf, writtenTable, type WrittenTable } from '../audit/audited-statement';
import { systemPrincipal } from '../auth/principal';
import type { QueueConfig } from '../config';
import { poolQuery, runWrite } from '../db/writes';
import { Params } from '../db/sql';
import { BadInputError, NotFoundError } from '../errors';
import { LEASE_EXPIRED, leaseLost, leaseTokenHash } from '../executions/lease';
import { ExecutionStatus, TaskExecution } from '../executions/execution.entity';
import type { IdempotencyRequest, IdempotencyService } from '../idempotency/idempotency.service';
import type { Logger } from '../logger';
import type { RequestScope } from '../request';
import { Task } from '../tasks/task.entity';
import { auditRowsSql, CANCEL_REQUESTED, outputSql, retryAssignments } from './queue.sql';

export interface ClaimFilter {
  taskTypes?: string[] | null;
  priorityMin?: number | null;
  priorityMax?: number | null;
  /** The task's requirements contain this (jsonb @>). */
  requirements?: Record<string, unknown> | null;
  /** The task's requirements are contained in this (jsonb <@): what the agent can do. */
  capabilities?: Record<string, unknown> | null;
}

export interface ClaimRequest {
  agentType: string;
  agentConfig?: Record<string, unknown> | null;
  filter?: ClaimFilter | null;
  leaseSeconds?: number | null;
  waitSeconds?: number | null;
}

export type ClaimedExecution = TaskExecution & { leaseToken?: string | null };

/** What each statement's task and execution UPDATEs set (the audit diff compares only these). */
const TASK_CLAIMED = ['status', 'attempts', 'runAfter', 'version', 'updatedAt'];
const TASK_ENDED = ['status', 'runAfter', 'completedAt', 'lastError', 'version', 'updatedAt'];
const RUN_ENDED = ['status', 'errorDetails', 'completedAt'];

/** Watches the tasks' changes from now (the change log this instance reads): `wait` resolves at the next one, or after `ms`. */
export type ChangeWatcher = () => Promise<{ wait(ms: number): Promise<void>; close(): Promise<void> }>;

/**
 * The agent work protocol: claims (one statement: pick the best ready task with FOR UPDATE SKIP
 * LOCKED, move it IN_PROGRESS, insert its RUNNING execution with a lease, audit both), heartbeats,
 * finishing a claimed run (the task completes, retries after backoff, or fails for good), and the
 * reaper of expired leases. Every statement is audited like the other writes, and the change-log
 * triggers see every row it changes.
 */
export class QueueService {
  private tables?: { task: WrittenTable; execution: WrittenTable };
  private watcher?: ChangeWatcher;
  private reaper?: NodeJS.Timeout;
  private reaping?: Promise<unknown>;
  /** Each statement text once per shape: the pool's prepared-statement lookup then hashes a string it has seen. */
  private readonly texts = new Map<string, string>();

  constructor(
    private readonly db: DataSource,
    private readonly config: QueueConfig,
    private readonly idempotency: IdempotencyService,
    private readonly logger?: Logger,
  ) {}

  /** `sql`, as the one string kept for its shape (`key` must name everything the text depends on). */
  private text(key: string, sql: string): string {
    const kept = this.texts.get(key);
    if (kept !== undefined) return kept;
    this.texts.set(key, sql);
    return sql;
  }

  private get t(): { task: WrittenTable; execution: WrittenTable } {
    return (this.tables ??= {
      task: writtenTable(this.db, Task, 'task'),
      execution: writtenTable(this.db, TaskExecution, 'task_execution', { hidden: ['leaseTokenHash'], secret: ['leaseTokenHash'] }),
    });
  }

  /** claimTask's waitSeconds waits through this (the change hub of this instance), never by polling the tasks. */
  useChangeWatcher(watcher: ChangeWatcher): void {
    this.watcher = watcher;
  }

  async claim(scope: RequestScope, input: ClaimRequest, idempotency?: IdempotencyRequest): Promise<ClaimedExecution | null> {
    const { task, execution } = this.t;
    if (input.leaseSeconds != null && (input.leaseSeconds < 1 || input.leaseSeconds > 86_400))
      throw new BadInputError('leaseSeconds', `give 1 to 86400 seconds, got ${input.leaseSeconds}`);
    if (input.waitSeconds != null && input.waitSeconds < 0)
      throw new BadInputError('waitSeconds', `must be 0 or more, got ${input.waitSeconds}`);
    const f = input.filter ?? {};
    const token = randomBytes(24).toString('base64url');
    const p = new Params();
    const where = [
      `t.status = 'pending'`,
      `(t.run_after IS NULL OR t.run_after <= now())`,
      `NOT EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_task_id WHERE d.task_id = t.id AND dt.status <> 'completed')`,
    ];
    if (f.taskTypes?.length) where.push(`t.type = ANY(${p.add(f.taskTypes)}::text[])`);
    if (f.priorityMin != null) where.push(`t.priority >= ${p.add(f.priorityMin)}::int`);
    if (f.priorityMax != null) where.push(`t.priority <= ${p.add(f.priorityMax)}::int`);
    if (f.requirements) where.push(`t.requirements @> ${p.json(f.requirements)}`);
    if (f.capabilities) where.push(`coalesce(t.requirements, '{}'::jsonb) <@ ${p.json(f.capabilities)}`);
    const lease = `make_interval(secs => coalesce(${p.add(input.leaseSeconds ?? null)}::int, c.timeout_seconds, ${p.add(this.config.defaultLeaseSeconds)}::int))`;
    const shape = [f.taskTypes?.length, f.priorityMin != null, f.priorityMax != null, !!f.requirements, !!f.capabilities].map(Boolean);
    const sql = this.text(
      `claim ${shape.join()}`,
      `WITH picked AS (
        SELECT t.* FROM tasks t WHERE ${where.join(' AND ')}
        ORDER BY t.priority DESC NULLS LAST, t.created_at LIMIT 1 FOR UPDATE OF t SKIP LOCKED),
      task_changed AS (
        UPDATE tasks w SET status = 'in_progress', attempts = o.attempts + 1, run_after = NULL, version = o.version + 1, updated_at = now()
        FROM picked o WHERE w.id = o.id RETURNING w.*),
      exec_changed AS (
        INSERT INTO task_executions AS w (task_id, agent_type, agent_config, status, started_at, heartbeat_at, attempt, lease_expires_at, lease_token_hash)
        SELECT c.id, ${p.add(input.agentType)}, ${p.json(input.agentConfig ?? {})}, 'running', now(), now(), c.attempts, now() + ${lease}, ${p.add(leaseTokenHash(token))}
        FROM task_changed c RETURNING w.*),
      audit_task AS (${auditRowsSql(scope, task, 'claimTask', p, 'task_changed', 'picked', TASK_CLAIMED)}),
      audit_execution AS (${auditRowsSql(scope, execution, 'claimTask', p, 'exec_changed', null)})
      SELECT ${outputSql(execution, 'c')} FROM exec_changed c`,
    );
    const once = async (): Promise<ClaimedExecution | null> => {
      let ran = false;
      const row = await this.idempotency.once(scope, idempotency, input, async (query) => {
        ran = true;
        const [claimed] = await runWrite(query, { sql, params: p.values });
        return (claimed as unknown as TaskExecution | undefined) ?? null;
      });
      // The token is never stored (only its hash): a keyed retry's stored answer comes without it.
      return row ? { ...row, leaseToken: ran ? token : null } : null;
    };
    const row = await once();
    const waitMs = Math.min(input.waitSeconds ?? 0, this.config.maxWaitSeconds) * 1000;
    if (row || idempotency || !this.watcher || waitMs <= 0) return row;
    // Watch first, then claim again: a task made ready between the two claims wakes the wait.
    const deadline = Date.now() + waitMs;
    const watch = await this.watcher();
    try {
      for (;;) {
        const claimed = await once();
        if (claimed || Date.now() >= deadline) return claimed;
        await watch.wait(deadline - Date.now());
      }
    } finally {
      await watch.close();
    }
  }

  /**
   * Finishes a claimed run, in one statement: the execution (only if RUNNING and the token is its
   * current lease), then its task: SUCCEEDED completes it, CANCELLED cancels it, FAILED retries it
   * after backoff or fails it for good at maxAttempts (or cancels it, when cancelTask asked for the
   * run to stop). Both audited.
   */
  async finish(
    scope: RequestScope,
    input: { id: string; leaseToken: string; status: ExecutionStatus; errorDetails?: unknown },
    idempotency?: IdempotencyRequest,
  ): Promise<TaskExecution> {
    const { task, execution } = this.t;
    const p = new Params();
    const id = `${p.add(input.id)}::uuid`;
    const errorDetails = input.errorDetails == null ? 'NULL::jsonb' : p.json(input.errorDetails);
    const status = p.add(input.status);
    const taskSet =
      input.status === ExecutionStatus.SUCCEEDED
        ? [`status = 'completed'`, 'completed_at = now()']
        : input.status === ExecutionStatus.CANCELLED
          ? [`status = 'cancelled'`, 'completed_at = now()']
          : retryAssignments(p, this.config, errorDetails, CANCEL_REQUESTED);
    const sql = this.text(
      `finish ${input.status} ${input.errorDetails == null}`,
      `WITH locked AS (SELECT e.* FROM task_executions e WHERE e.id = ${id} FOR UPDATE),
      exec_changed AS (
        UPDATE task_executions w SET status = ${status}::text, error_details = ${errorDetails}, completed_at = now()
        FROM locked o WHERE w.id = o.id AND o.status = 'running' AND o.lease_token_hash = ${p.add(leaseTokenHash(input.leaseToken))}
        RETURNING w.*),
      task_locked AS (SELECT t.* FROM tasks t WHERE t.id = (SELECT task_id FROM exec_changed) AND t.status = 'in_progress' FOR UPDATE),
      task_changed AS (
        UPDATE tasks w SET ${[...taskSet, 'version = o.version + 1', 'updated_at = now()'].join(', ')}
        FROM task_locked o WHERE w.id = o.id RETURNING w.*),
      audit_execution AS (${auditRowsSql(scope, execution, 'finishExecution', p, 'exec_changed', 'locked', RUN_ENDED)}),
      audit_task AS (${auditRowsSql(scope, task, 'finishExecution', p, 'task_changed', 'task_locked', TASK_ENDED)})
      SELECT 'changed' AS "__outcome", ${outputSql(execution, 'c')} FROM exec_changed c
      UNION ALL
      SELECT 'current', ${outputSql(execution, 'o')} FROM locked o WHERE NOT EXISTS (SELECT 1 FROM exec_changed)`,
    );
    return this.idempotency.once(scope, idempotency, input, async (query) => {
      const [row] = await runWrite(query, { sql, params: p.values });
      if (!row) throw new NotFoundError('execution', input.id);
      const { __outcome, ...execution } = row as unknown as { __outcome: string } & TaskExecution;
      if (__outcome === 'changed') return execution;
      throw leaseLost(input.id);
    });
  }

  /**
   * Extends a claimed run's lease by its length (from now), records progress; answers whether
   * cancellation was requested. Once it was, the lease is no longer extended: an agent that keeps
   * beating without stopping still loses the run when its lease ends (the reaper cancels it).
   */
  async heartbeat(scope: RequestScope, input: { id: string; leaseToken: string; progress?: unknown }): Promise<TaskExecution> {
    const p = new Params();
    const statement = auditedStatement(scope, this.t.execution, {
      kind: 'update',
      operation: 'heartbeatExecution',
      id: `${p.add(input.id)}::uuid`,
      set: [
        'lease_expires_at = CASE WHEN o.cancel_requested_at IS NULL THEN now() + (o.lease_expires_at - o.heartbeat_at) ELSE o.lease_expires_at END',
        'heartbeat_at = now()',
        ...(input.progress === undefined || input.progress === null ? [] : [`progress = ${p.json(input.progress)}`]),
      ],
      where: [`o.status = 'running'`, `o.lease_token_hash = ${p.add(leaseTokenHash(input.leaseToken))}`],
      params: p,
    });
    const outcome = outcomeOf<TaskExecution>(await runWrite(poolQuery(this.db), statement));
    if (outcome.changed) return outcome.row;
    if (!outcome.current) throw new NotFoundError('execution', input.id);
    throw leaseLost(input.id);
  }

  /**
   * Cancels a task: a PENDING one becomes CANCELLED at once; a claimed one's RUNNING execution is
   * marked cancel-requested (heartbeatExecution answers cancelRequested: true; the agent finishes
   * it CANCELLED, which cancels the task, or its lease ends it). One audited statement; answers
   * the task's id, or null when there is no such task.
   */
  async cancel(scope: RequestScope, taskId: string): Promise<{ cancelled: boolean; requested: number } | null> {
    const { task, execution } = this.t;
    const p = new Params();
    const id = `${p.add(taskId)}::uuid`;
    const sql = `WITH task_locked AS (SELECT t.* FROM tasks t WHERE t.id = ${id} FOR UPDATE),
      task_changed AS (
        UPDATE tasks w SET status = 'cancelled', completed_at = now(), version = o.version + 1, updated_at = now()
        FROM task_locked o WHERE w.id = o.id AND o.status = 'pending' RETURNING w.*),
      exec_locked AS (SELECT e.* FROM task_executions e WHERE e.task_id = ${id} AND e.status = 'running' AND e.cancel_requested_at IS NULL FOR UPDATE),
      exec_changed AS (
        UPDATE task_executions w SET cancel_requested_at = now() FROM exec_locked o WHERE w.id = o.id RETURNING w.*),
      audit_task AS (${auditRowsSql(scope, task, 'cancelTask', p, 'task_changed', 'task_locked', TASK_ENDED)}),
      audit_execution AS (${auditRowsSql(scope, execution, 'cancelTask', p, 'exec_changed', 'exec_locked', ['cancelRequestedAt'])})
      SELECT (SELECT count(*) FROM task_locked)::int AS found, (SELECT count(*) FROM task_changed)::int AS cancelled,
        (SELECT count(*) FROM exec_changed)::int AS requested`;
    const [row] = await runWrite(poolQuery(this.db), { sql, params: p.values });
    if (!row || Number(row.found) === 0) return null;
    return { cancelled: Number(row.cancelled) > 0, requested: Number(row.requested) };
  }

  stats(): Promise<QueueStatsResult> {
    return queueStats(this.db);
  }

  /** Starts this instance's reaper (QUEUE_REAPER_INTERVAL_MS). */
  startReaper(): void {
    if (this.reaper) return;
    this.reaper = setInterval(() => {
      if (this.reaping) return;
      this.reaping = this.reap()
        .catch((error: unknown) =>
          this.logger?.warn('queue: reaping expired leases failed; retrying next interval', { reason: String(error) }),
        )
        .finally(() => (this.reaping = undefined));
    }, this.config.reaperIntervalMs);
    this.reaper.unref();
  }

  async stopReaper(): Promise<void> {
    clearInterval(this.reaper);
    this.reaper = undefined;
    await this.reaping;
  }

  /**
   * One pass: executions RUNNING past lease + grace (up to 100, SKIP LOCKED, so two instances never
   * take the same one) become FAILED with reason LEASE_EXPIRED, and their tasks retry after backoff
   * or fail for good; one whose cancellation was requested becomes CANCELLED (same reason), and so
   * does its task, without a retry. One audited statement; answers how many expired.
   */
  async reap(): Promise<number> {
    const { task, execution } = this.t;
    const scope: RequestScope = { requestId: 'reaper', principal: systemPrincipal('reaper'), logger: this.logger as Logger };
    const p = new Params();
    const details = `jsonb_strip_nulls(jsonb_build_object('reason', '${LEASE_EXPIRED}', 'leaseExpiredAt', o.lease_expires_at, 'attempt', o.attempt,
      'cancelRequestedAt', o.cancel_requested_at))`;
    const sql = `WITH expired AS (
        SELECT e.* FROM task_executions e
        WHERE e.status = 'running' AND e.lease_expires_at < now() - make_interval(secs => ${p.add(this.config.leaseGraceSeconds)}::int)
        ORDER BY e.lease_expires_at LIMIT 100 FOR UPDATE SKIP LOCKED),
      exec_changed AS (
        UPDATE task_executions w SET status = CASE WHEN o.cancel_requested_at IS NULL THEN 'failed' ELSE 'cancelled' END,
          completed_at = now(), error_details = ${details}
        FROM expired o WHERE w.id = o.id RETURNING w.*),
      task_locked AS (SELECT t.* FROM tasks t WHERE t.id IN (SELECT task_id FROM exec_changed) AND t.status = 'in_progress' FOR UPDATE),
      task_changed AS (
        UPDATE tasks w SET ${[
          ...retryAssignments(
            p,
            this.config,
            `(SELECT c.error_details FROM exec_changed c WHERE c.task_id = o.id LIMIT 1)`,
            CANCEL_REQUESTED,
          ),
          'version = o.version + 1',
          'updated_at = now()',
        ].join(', ')}
        FROM task_locked o WHERE w.id = o.id RETURNING w.*),
      audit_execution AS (${auditRowsSql(scope, execution, 'reapExpiredLease', p, 'exec_changed', 'expired', RUN_ENDED)}),
      audit_task AS (${auditRowsSql(scope, task, 'reapExpiredLease', p, 'task_changed', 'task_locked', TASK_ENDED)})
      SELECT count(*)::int AS count FROM exec_changed`;
    const [row] = await runWrite(poolQuery(this.db), { sql, params: p.values });
    const count = Number(row?.count ?? 0);
    if (count > 0) this.logger?.info('queue: expired leases reaped', { count });
    return count;
  }
}

export interface QueueStatsRow {
  taskType: string;
  ready: number;
  blocked: number;
  delayed: number;
  running: number;
}

export interface QueueStatsResult {
  byTaskType: QueueStatsRow[];
  runningByAgentType: { agentType: string; running: number }[];
  oldestReadyAgeSeconds: number | null;
  leasesExpiredLastHour: number;
}

/** The queue as dashboards see it (queueStats, and the /metrics gauges): two statements. */
export async function queueStats(db: DataSource): Promise<QueueStatsResult> {
  const q = poolQuery(db);
  const byType = await q(
    `SELECT t.type AS "taskType",
       count(*) FILTER (WHERE t.status = 'pending' AND NOT b.blocked AND (t.run_after IS NULL OR t.run_after <= now()))::int AS ready,
       count(*) FILTER (WHERE t.status = 'pending' AND b.blocked)::int AS blocked,
       count(*) FILTER (WHERE t.status = 'pending' AND NOT b.blocked AND t.run_after > now())::int AS delayed,
       count(*) FILTER (WHERE t.status = 'in_progress')::int AS running,
       extract(epoch FROM now() - min(t.created_at) FILTER (WHERE t.status = 'pending' AND NOT b.blocked AND (t.run_after IS NULL OR t.run_after <= now())))::float AS "oldest"
     FROM tasks t
     CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_task_id
                                        WHERE d.task_id = t.id AND dt.status <> 'completed') AS blocked) b
     WHERE t.status IN ('pending', 'in_progress') GROUP BY t.type ORDER BY t.type`,
    [],
  );
  const agents = await q(
    `SELECT e.agent_type AS "agentType", count(*) FILTER (WHERE e.status = 'running')::int AS running,
       count(*) FILTER (WHERE e.status = 'failed' AND e.error_details->>'reason' = '${LEASE_EXPIRED}' AND e.completed_at > now() - interval '1 hour')::int AS expired
     FROM task_executions e WHERE e.status = 'running' OR (e.status = 'failed' AND e.completed_at > now() - interval '1 hour')
     GROUP BY 1 ORDER BY 1`,
    [],
  );
  const oldest = byType.map((r) => r.oldest as number | null).filter((v): v is number => v != null);
  return {
    byTaskType: byType.map(({ oldest: _, ...r }) => r as unknown as QueueStatsRow),
    runningByAgentType: agents
      .filter((a) => Number(a.running) > 0)
      .map((a) => ({ agentType: String(a.agentType), running: Number(a.running) })),
    oldestReadyAgeSeconds: oldest.length > 0 ? Math.max(...oldest) : null,
    leasesExpiredLastHour: agents.reduce((n, a) => n + Number(a.expired), 0),
  };
}
