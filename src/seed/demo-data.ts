import { ExecutionStatus, type TaskExecution } from '../executions/execution.entity';
import { IntegrationHealth, IntegrationStatus, IntegrationType, type ExternalIntegration } from '../integrations/integration.entity';
import type { SystemMetric } from '../metrics/metric.entity';
import { TaskStatus, type Task } from '../tasks/task.entity';
import { DEMO_LATENCY_METRIC, demoId } from './demo-ids';

/**
 * The demo data set of `npm run db:seed`, as a pure function of the time it is built: tasks in every
 * status with subtasks, executions with logs, one integration of each kind, and a day of metrics up
 * to `now`. Fixed ids (demo-ids.ts) make a second run refresh the same rows.
 */
export interface DemoData {
  tasks: Partial<Task>[];
  executions: Partial<TaskExecution>[];
  integrations: Partial<ExternalIntegration>[];
  metrics: Partial<SystemMetric>[];
  /** Each execution's log entries, as an agent would append them. */
  logs: { executionId: string; entries: { at: string; level: string; message: string }[] }[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const FINISHED = new Set([TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]);

interface TaskSpec {
  n: number;
  title: string;
  status: TaskStatus;
  priority: number;
  type: string;
  assignedTo: string | null;
  parent?: number;
  /** Hours before `now` the task was created, and (finished tasks) finished. */
  createdHoursAgo: number;
  finishedHoursAgo?: number;
  description?: string;
  requirements?: Record<string, unknown>;
  acceptanceCriteria?: string[];
}

const TASKS: TaskSpec[] = [
  {
    n: 1,
    title: 'Dashboard: task board with filters and paging',
    status: TaskStatus.IN_PROGRESS,
    priority: 8,
    type: 'feature',
    assignedTo: 'claude-agent',
    createdHoursAgo: 22,
    description: 'The dashboard lists tasks by status and priority, a page at a time, and opens one with its runs.',
    requirements: { api: 'graphql', pagination: 'relay' },
    acceptanceCriteria: ['filters by status', 'orders by priority', 'pages with cursors'],
  },
  {
    n: 2,
    title: 'Board: Relay pagination for the task list',
    status: TaskStatus.COMPLETED,
    priority: 7,
    type: 'feature',
    assignedTo: 'codegen-agent',
    parent: 1,
    createdHoursAgo: 21,
    finishedHoursAgo: 15,
  },
  {
    n: 3,
    title: 'Board: status filter chips',
    status: TaskStatus.IN_PROGRESS,
    priority: 6,
    type: 'feature',
    assignedTo: 'claude-agent',
    parent: 1,
    createdHoursAgo: 20,
  },
  {
    n: 4,
    title: 'Add OAuth login to the dashboard',
    status: TaskStatus.PENDING,
    priority: 9,
    type: 'feature',
    assignedTo: null,
    createdHoursAgo: 18,
    requirements: { auth: 'oauth2', provider: 'github' },
    acceptanceCriteria: ['login with GitHub', 'logout clears the session'],
  },
  {
    n: 5,
    title: 'OAuth: register the GitHub app',
    status: TaskStatus.PENDING,
    priority: 9,
    type: 'chore',
    assignedTo: 'ops@example.com',
    parent: 4,
    createdHoursAgo: 17,
  },
  {
    n: 6,
    title: 'OAuth: callback handler and session cookie',
    status: TaskStatus.PENDING,
    priority: 8,
    type: 'feature',
    assignedTo: null,
    parent: 4,
    createdHoursAgo: 17,
  },
  {
    n: 7,
    title: 'Rotate the GitHub webhook secret',
    status: TaskStatus.PENDING,
    priority: 7,
    type: 'security',
    assignedTo: 'ops@example.com',
    createdHoursAgo: 12,
  },
  {
    n: 8,
    title: 'Upgrade PostgreSQL to 16',
    status: TaskStatus.PENDING,
    priority: 3,
    type: 'maintenance',
    assignedTo: null,
    createdHoursAgo: 6,
  },
  {
    n: 9,
    title: 'Flaky test: two agents finishing the same execution',
    status: TaskStatus.FAILED,
    priority: 6,
    type: 'bugfix',
    assignedTo: 'claude-agent',
    createdHoursAgo: 16,
    finishedHoursAgo: 9,
    description: 'finishExecution sometimes reports success to both agents.',
  },
  {
    n: 10,
    title: 'Reproduce the race with 50 concurrent finishes',
    status: TaskStatus.COMPLETED,
    priority: 6,
    type: 'bugfix',
    assignedTo: 'claude-agent',
    parent: 9,
    createdHoursAgo: 15,
    finishedHoursAgo: 11,
  },
  {
    n: 11,
    title: 'Nightly dependency audit',
    status: TaskStatus.COMPLETED,
    priority: 2,
    type: 'maintenance',
    assignedTo: 'codegen-agent',
    createdHoursAgo: 14,
    finishedHoursAgo: 13,
  },
  {
    n: 12,
    title: 'Update the lockfile',
    status: TaskStatus.COMPLETED,
    priority: 2,
    type: 'maintenance',
    assignedTo: 'codegen-agent',
    parent: 11,
    createdHoursAgo: 14,
    finishedHoursAgo: 13.5,
  },
  {
    n: 13,
    title: 'Move CI to the new runners',
    status: TaskStatus.CANCELLED,
    priority: 4,
    type: 'chore',
    assignedTo: null,
    createdHoursAgo: 19,
    finishedHoursAgo: 8,
    description: 'Cancelled: the old runners were upgraded in place.',
  },
  {
    n: 14,
    title: 'Inventory the runner labels',
    status: TaskStatus.CANCELLED,
    priority: 4,
    type: 'chore',
    assignedTo: 'codegen-agent',
    parent: 13,
    createdHoursAgo: 18,
    finishedHoursAgo: 8,
  },
  {
    n: 15,
    title: 'Runbook: what to do when the tunnel is down',
    status: TaskStatus.IN_PROGRESS,
    priority: 4,
    type: 'docs',
    assignedTo: 'codegen-agent',
    createdHoursAgo: 5,
  },
  {
    n: 16,
    title: 'Backfill Linear issue links on old tasks',
    status: TaskStatus.FAILED,
    priority: 5,
    type: 'chore',
    assignedTo: 'claude-agent',
    parent: 15,
    createdHoursAgo: 4,
    finishedHoursAgo: 2,
  },
  {
    n: 17,
    title: 'Chart p95 latency per operation',
    status: TaskStatus.PENDING,
    priority: 5,
    type: 'feature',
    assignedTo: null,
    createdHoursAgo: 1,
  },
];

interface ExecutionSpec {
  n: number;
  task: number;
  agentType: string;
  status: ExecutionStatus;
  startedHoursAgo: number;
  finishedHoursAgo?: number;
  logs: string[];
  error?: Record<string, unknown>;
}

const EXECUTIONS: ExecutionSpec[] = [
  {
    n: 1,
    task: 1,
    agentType: 'codegen',
    status: ExecutionStatus.FAILED,
    startedHoursAgo: 21.5,
    finishedHoursAgo: 21,
    logs: ['cloned the repository', 'generated the TaskBoard component', 'type-check failed: 3 errors'],
    error: { step: 'typecheck', errors: 3 },
  },
  {
    n: 2,
    task: 1,
    agentType: 'claude',
    status: ExecutionStatus.RUNNING,
    startedHoursAgo: 0.5,
    logs: ['read the issue and the schema', 'planned 4 steps', 'step 2 of 4: wiring the filters'],
  },
  {
    n: 3,
    task: 2,
    agentType: 'codegen',
    status: ExecutionStatus.SUCCEEDED,
    startedHoursAgo: 16,
    finishedHoursAgo: 15,
    logs: ['added the connection type', 'tests passed (42)', 'opened pull request #128'],
  },
  { n: 4, task: 3, agentType: 'claude', status: ExecutionStatus.RUNNING, startedHoursAgo: 1, logs: ['started', 'rendering the chips'] },
  {
    n: 5,
    task: 9,
    agentType: 'claude',
    status: ExecutionStatus.FAILED,
    startedHoursAgo: 10,
    finishedHoursAgo: 9,
    logs: ['ran the test 200 times', '2 failures, no fix found in time'],
    error: { message: 'timed out after 60 minutes', retriable: true },
  },
  {
    n: 6,
    task: 10,
    agentType: 'claude',
    status: ExecutionStatus.SUCCEEDED,
    startedHoursAgo: 12,
    finishedHoursAgo: 11,
    logs: ['wrote a reproduction', 'reproduced 7 of 50 runs'],
  },
  {
    n: 7,
    task: 11,
    agentType: 'codegen',
    status: ExecutionStatus.SUCCEEDED,
    startedHoursAgo: 13.8,
    finishedHoursAgo: 13,
    logs: ['npm audit: 0 vulnerabilities', 'report attached'],
  },
  {
    n: 8,
    task: 12,
    agentType: 'codegen',
    status: ExecutionStatus.SUCCEEDED,
    startedHoursAgo: 13.9,
    finishedHoursAgo: 13.5,
    logs: ['npm update', 'lockfile committed'],
  },
  {
    n: 9,
    task: 14,
    agentType: 'codegen',
    status: ExecutionStatus.CANCELLED,
    startedHoursAgo: 9,
    finishedHoursAgo: 8,
    logs: ['listing runners', 'cancelled by the task'],
  },
  {
    n: 10,
    task: 15,
    agentType: 'claude',
    status: ExecutionStatus.PENDING,
    startedHoursAgo: 0.1,
    logs: ['queued: waiting for a free claude agent'],
  },
  {
    n: 11,
    task: 16,
    agentType: 'claude',
    status: ExecutionStatus.FAILED,
    startedHoursAgo: 3,
    finishedHoursAgo: 2,
    logs: ['fetched 120 Linear issues', 'Linear answered 429 Too Many Requests'],
    error: { integration: 'linear', status: 429 },
  },
];

const INTEGRATIONS: Partial<ExternalIntegration>[] = [
  {
    type: IntegrationType.GITHUB,
    name: 'GitHub (demo org)',
    status: IntegrationStatus.ACTIVE,
    healthStatus: IntegrationHealth.HEALTHY,
    rateLimitPerMinute: 80,
  },
  {
    type: IntegrationType.LINEAR,
    name: 'Linear workspace',
    status: IntegrationStatus.ACTIVE,
    healthStatus: IntegrationHealth.DEGRADED,
    rateLimitPerMinute: 30,
  },
  {
    type: IntegrationType.CODEGEN,
    name: 'Codegen agents',
    status: IntegrationStatus.ACTIVE,
    healthStatus: IntegrationHealth.HEALTHY,
    rateLimitPerMinute: 60,
  },
  {
    type: IntegrationType.CLAUDE,
    name: 'Claude',
    status: IntegrationStatus.ACTIVE,
    healthStatus: IntegrationHealth.HEALTHY,
    rateLimitPerMinute: 50,
  },
  {
    type: IntegrationType.CUSTOM,
    name: 'Slack notifier',
    status: IntegrationStatus.DISABLED,
    healthStatus: IntegrationHealth.DOWN,
    rateLimitPerMinute: 20,
  },
];

/** The metrics of the demo day: one sample a minute each. */
const METRICS = [
  { category: 'gateway', name: DEMO_LATENCY_METRIC, unit: 'ms', base: 45, swing: 25, noise: 15, spike: 4 },
  { category: 'gateway', name: 'graphql.requests', unit: 'count', base: 120, swing: 80, noise: 30, spike: 1.5 },
  { category: 'database', name: 'db.pool.active_connections', unit: 'count', base: 4, swing: 3, noise: 2, spike: 2 },
  { category: 'agent', name: 'agent.executions.running', unit: 'count', base: 3, swing: 2, noise: 1, spike: 1 },
] as const;

/** A small seeded PRNG (mulberry32): the same demo day every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function buildDemoData(now: Date): DemoData {
  const end = Math.floor(now.getTime() / MINUTE) * MINUTE;
  const ago = (hours: number) => new Date(end - Math.round(hours * HOUR));

  const tasks = TASKS.map((t): Partial<Task> => ({
    id: demoId('task', t.n),
    title: t.title,
    description: t.description ?? null,
    type: t.type,
    status: t.status,
    priority: t.priority,
    complexityScore: 1 + ((t.n * 7) % 10),
    requirements: t.requirements ?? {},
    acceptanceCriteria: t.acceptanceCriteria ?? [],
    parentTaskId: t.parent ? demoId('task', t.parent) : null,
    assignedTo: t.assignedTo,
    createdAt: ago(t.createdHoursAgo),
    updatedAt: ago(t.finishedHoursAgo ?? Math.min(t.createdHoursAgo, 0.25)),
    completedAt: FINISHED.has(t.status) ? ago(t.finishedHoursAgo ?? 0) : null,
    metadata: { demo: true, source: 'npm run db:seed' },
  }));

  const executions = EXECUTIONS.map((e): Partial<TaskExecution> => {
    const started = ago(e.startedHoursAgo);
    const finished = e.finishedHoursAgo === undefined ? null : ago(e.finishedHoursAgo);
    return {
      id: demoId('execution', e.n),
      taskId: demoId('task', e.task),
      agentType: e.agentType,
      agentConfig: { model: e.agentType === 'claude' ? 'claude-sonnet' : 'codegen-v2', maxMinutes: 60 },
      status: e.status,
      errorDetails: e.error ?? null,
      startedAt: e.status === ExecutionStatus.PENDING ? null : started,
      completedAt: finished,
      createdAt: started,
    };
  });

  const logs = EXECUTIONS.map((e) => {
    const started = ago(e.startedHoursAgo);
    const finished = e.finishedHoursAgo === undefined ? null : ago(e.finishedHoursAgo);
    const span = (finished ?? new Date(end)).getTime() - started.getTime();
    return {
      executionId: demoId('execution', e.n),
      entries: e.logs.map((message, i) => ({
        at: new Date(started.getTime() + Math.round((span * i) / Math.max(e.logs.length, 1))).toISOString(),
        level: e.error && i === e.logs.length - 1 ? 'error' : 'info',
        message,
      })),
    };
  });

  const integrations = INTEGRATIONS.map((i, index): Partial<ExternalIntegration> => ({
    ...i,
    id: demoId('integration', index + 1),
    // Stored write-only like any integration's credentials; these are placeholders, not secrets.
    configuration: { demo: true, baseUrl: `https://${i.type}.example.com`, token: 'demo-placeholder-not-a-secret' },
    createdAt: ago(23),
    updatedAt: ago(1),
  }));

  const metrics: Partial<SystemMetric>[] = [];
  const minutes = 24 * 60;
  METRICS.forEach((m, mi) => {
    const rand = random(mi + 1);
    for (let i = 0; i < minutes; i++) {
      const at = end - (minutes - 1 - i) * MINUTE;
      const hour = new Date(at).getUTCHours() + new Date(at).getUTCMinutes() / 60;
      // Busiest in the (UTC) afternoon, with the odd spike.
      const daily = Math.sin(((hour - 8) / 24) * 2 * Math.PI);
      const spike = rand() < 0.01 ? m.spike : 1;
      const value = Math.max(0, (m.base + m.swing * daily + m.noise * (rand() - 0.5)) * spike);
      metrics.push({
        id: demoId('metric', mi * minutes + i + 1),
        category: m.category,
        name: m.name,
        value: m.unit === 'count' ? Math.round(value) : Math.round(value * 1000) / 1000,
        unit: m.unit,
        dimensions: { host: 'gateway-1' },
        timestamp: new Date(at),
      });
    }
  });

  return { tasks, executions, integrations, metrics, logs };
}
