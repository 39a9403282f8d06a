import { Role } from '../src/auth/roles';
import { ROOT_FIELDS_QUERY, schemaOps, type SchemaOps } from './support/schema-ops';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * Every role against every root field, enumerated from the schema itself: a mutation added later
 * fails here until it is given a row in MUTATION_ROLES (and @Authorized, or the gateway will not
 * start). A role below the required one gets FORBIDDEN and changes nothing; a role at or above it
 * gets past authorization (the made-up arguments may still be refused, as they should be).
 */
const MUTATION_ROLES: Record<string, Role> = {
  createTask: Role.OPERATOR,
  updateTask: Role.OPERATOR,
  deleteTask: Role.OPERATOR,
  createSubtask: Role.OPERATOR,
  updateTaskStatus: Role.OPERATOR,
  startExecution: Role.OPERATOR,
  finishExecution: Role.OPERATOR,
  appendExecutionLog: Role.OPERATOR,
  recordMetric: Role.OPERATOR,
  claimTask: Role.OPERATOR,
  heartbeatExecution: Role.OPERATOR,
  cancelTask: Role.OPERATOR,
  addTaskDependencies: Role.OPERATOR,
  removeTaskDependency: Role.OPERATOR,
  recordMetrics: Role.OPERATOR,
  createIntegration: Role.ADMIN,
  updateIntegration: Role.ADMIN,
  enableIntegration: Role.ADMIN,
  disableIntegration: Role.ADMIN,
  deleteIntegration: Role.ADMIN,
  createApiToken: Role.ADMIN,
  revokeApiToken: Role.ADMIN,
  createWebhook: Role.ADMIN,
  updateWebhook: Role.ADMIN,
  disableWebhook: Role.ADMIN,
  deleteWebhook: Role.ADMIN,
  rotateWebhookSecret: Role.ADMIN,
  redeliverWebhookEvent: Role.ADMIN,
};
/** Mutations that change more than one row: claimTask moves its task and inserts its execution. */
const AUDIT_ROWS: Record<string, number> = { claimTask: 2 };
/** Queries are for viewers, except these. */
const ADMIN_QUERIES = new Set(['apiTokens', 'auditLog', 'runSql', 'webhooks', 'webhookDeliveries']);
/** Queries that reveal internal addresses and paths: operators and admins only. */
const OPERATOR_QUERIES = new Set(['tunnel']);

const RANK = { [Role.VIEWER]: 1, [Role.OPERATOR]: 2, [Role.ADMIN]: 3 };

let t: TestGateway;
let ops: SchemaOps;
const tokens: Record<Role, string> = {} as Record<Role, string>;

beforeAll(async () => {
  t = await startTestGateway({ RUN_SQL_ENABLED: 'true', RUN_SQL_ALLOW_SUPERUSER: 'true' });
  for (const role of [Role.VIEWER, Role.OPERATOR, Role.ADMIN]) tokens[role] = (await t.token(role)).token;
  const res = await t.gql(ROOT_FIELDS_QUERY);
  expect(res.body.errors).toBeUndefined();
  ops = schemaOps(res.body.data.__schema);
});
afterAll(() => t.close());

async function changeCounts() {
  const [row] = await t.db.query(`SELECT
    (SELECT count(*) FROM tasks)::int AS tasks, (SELECT count(*) FROM task_executions)::int AS executions,
    (SELECT count(*) FROM external_integrations)::int AS integrations, (SELECT count(*) FROM system_metrics)::int AS metrics,
    (SELECT count(*) FROM api_tokens)::int AS tokens, (SELECT count(*) FROM audit_log)::int AS audit,
    (SELECT count(*) FROM webhooks)::int AS webhooks`);
  return row;
}

describe('roles', () => {
  it('knows the required role of every mutation in the schema', () => {
    const unknown = ops.mutations.map((m) => m.name).filter((name) => !(name in MUTATION_ROLES));
    expect(unknown).toEqual([]);
    expect(ops.mutations.length).toBeGreaterThanOrEqual(9);
  });

  it('lets each role call exactly the mutations its rank allows, and FORBIDDEN ones change nothing', async () => {
    const outcomes: string[] = [];
    const succeeded = new Set<string>();
    for (const mutation of ops.mutations) {
      const required = MUTATION_ROLES[mutation.name];
      const { query, variables } = ops.call('mutation', mutation);
      for (const role of [Role.VIEWER, Role.OPERATOR, Role.ADMIN]) {
        const before = await changeCounts();
        const res = await t.gql(query, variables, { authorization: `Bearer ${tokens[role]}` });
        const codes = (res.body.errors ?? []).map((e) => e.extensions?.code);
        const allowed = RANK[role] >= RANK[required];
        if (allowed) {
          expect({ mutation: mutation.name, role, codes: codes.filter((c) => c === 'FORBIDDEN' || c === 'UNAUTHENTICATED') }).toEqual({
            mutation: mutation.name,
            role,
            codes: [],
          });
          // the audit trail: one row per row changed, of this operation, when it succeeded; none when it failed
          const after = await changeCounts();
          expect({ mutation: mutation.name, role, audited: after.audit - before.audit }).toEqual({
            mutation: mutation.name,
            role,
            audited: codes.length === 0 ? (AUDIT_ROWS[mutation.name] ?? 1) : 0,
          });
          if (codes.length === 0) {
            const [last] = await t.db.query(`SELECT operation, actor_role FROM audit_log ORDER BY occurred_at DESC, id DESC LIMIT 1`);
            expect(last).toEqual({ operation: mutation.name, actor_role: role });
            succeeded.add(mutation.name);
          }
        } else {
          expect({ mutation: mutation.name, role, codes }).toEqual({ mutation: mutation.name, role, codes: ['FORBIDDEN'] });
          expect(res.body.errors?.[0].extensions).toMatchObject({ requiredRole: required, role });
          expect(await changeCounts()).toEqual(before);
        }
        outcomes.push(`${mutation.name}:${role}:${allowed ? 'allowed' : 'forbidden'}`);
      }
    }
    expect(outcomes).toContain('createTask:viewer:forbidden');
    expect(outcomes).toContain('createTask:operator:allowed');
    expect(outcomes).toContain('createIntegration:operator:forbidden');
    expect(outcomes).toContain('createApiToken:admin:allowed');
    // the made-up arguments are good enough for these to succeed (and so to be audited)
    expect([...succeeded]).toEqual(expect.arrayContaining(['createTask', 'createIntegration', 'createApiToken']));
  });

  it('answers every mutation without a token with HTTP 401 UNAUTHENTICATED', async () => {
    for (const mutation of ops.mutations) {
      const { query, variables } = ops.call('mutation', mutation);
      const res = await t.gql(query, variables, { authorization: '' });
      expect({ mutation: mutation.name, status: res.status, code: res.body.errors?.[0].extensions?.code }).toEqual({
        mutation: mutation.name,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
  });

  it('lets viewers read every query except the operator and admin ones', async () => {
    for (const field of ops.queries) {
      const { query, variables } = ops.call('query', field);
      for (const role of [Role.VIEWER, Role.OPERATOR, Role.ADMIN]) {
        const res = await t.gql(query, variables, { authorization: `Bearer ${tokens[role]}` });
        const codes = (res.body.errors ?? []).map((e) => e.extensions?.code);
        const needed = ADMIN_QUERIES.has(field.name) ? Role.ADMIN : OPERATOR_QUERIES.has(field.name) ? Role.OPERATOR : Role.VIEWER;
        const allowed = RANK[role] >= RANK[needed];
        if (allowed)
          expect({ field: field.name, role, codes: codes.filter((c) => c === 'FORBIDDEN') }).toEqual({
            field: field.name,
            role,
            codes: [],
          });
        else expect({ field: field.name, role, codes }).toEqual({ field: field.name, role, codes: ['FORBIDDEN'] });
      }
    }
  });
});
