import { DEMO_LATENCY_METRIC, DEMO_PENDING_TASK_ID, DEMO_TASK_ID } from '../seed/demo-ids';

/**
 * The operations the IDE opens with, one tab each: the dashboard's flows, ready to run against the
 * demo data (`npm run db:seed`). docs/api.md shows the same texts (a test keeps them in step and runs
 * them on seeded data).
 */
export interface ExampleOperation {
  title: string;
  query: string;
  variables?: Record<string, unknown>;
}

export function exampleOperations(now: Date): ExampleOperation[] {
  const to = new Date(Math.ceil(now.getTime() / 60_000) * 60_000);
  const from = new Date(to.getTime() - 24 * 3_600_000);
  return [
    {
      title: 'Task board',
      query: `query TaskBoard($after: String) {
  tasks(
    first: 10
    after: $after
    filter: { status: [PENDING] }
    orderBy: [{ field: PRIORITY, direction: DESC }]
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id title status priority assignedTo createdAt }
  }
}`,
    },
    {
      title: 'One task with its runs',
      query: `query TaskDetail($id: UUID!) {
  task(id: $id) {
    title status priority description
    subtasks(first: 10) { nodes { id title status } }
    executions(first: 10) {
      nodes { id agentType status startedAt completedAt errorDetails logEntries(last: 20) { nodes { seq at level message } } }
    }
  }
}`,
      variables: { id: DEMO_TASK_ID },
    },
    {
      title: 'Latency chart',
      query: `query LatencyChart($from: DateTime!, $to: DateTime!) {
  metricSeries(name: "${DEMO_LATENCY_METRIC}", from: $from, to: $to, bucket: "5m") {
    start avg p95
  }
}`,
      variables: { from: from.toISOString(), to: to.toISOString() },
    },
    {
      title: 'Create a task',
      query: `mutation CreateTask {
  createTask(input: { title: "Try the GraphQL IDE", priority: 5 }) {
    id title status createdAt
  }
}`,
    },
    {
      title: 'Start a task',
      query: `mutation StartTask($id: UUID!) {
  updateTaskStatus(input: { id: $id, status: IN_PROGRESS }) { id status completedAt }
}`,
      variables: { id: DEMO_PENDING_TASK_ID },
    },
  ];
}

/**
 * Subscriptions the IDE opens in tabs of their own, after the operations above (they run over
 * graphql-ws, not HTTP). docs/api.md "Live updates" shows the same text.
 */
export function exampleSubscriptions(): ExampleOperation[] {
  return [
    {
      title: 'Live task changes',
      query: `subscription TaskBoardLive($after: String) {
  taskChanged(filter: { status: [PENDING, IN_PROGRESS] }, after: $after) {
    cursor operation taskId task { id title status priority }
  }
}`,
    },
  ];
}
