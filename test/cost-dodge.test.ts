import { randomUUID } from 'node:crypto';
import { startTestGateway, type TestGateway } from './support/gateway';
import { Role } from '../src/auth/roles';
import { connect, subscriptionsActive, type Subscriber } from './support/subscriber';

/*
 * The cost model (docs/security.md, "Query cost and rate limits") against shapes built to dodge
 * it: each formula's root form, then the same work through fragments (inline, named, nested),
 * aliases, list arguments and batches. Each must be charged what the root form is charged
 * (extensions.cost.requested of the answer).
 */

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;

describe('a query shape cannot lower its cost', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway(); // GRAPHQL_MAX_COST at its default, 10,000
  });
  afterAll(() => t.close());

  const charged = async (query: string, variables?: Record<string, unknown>): Promise<number> => {
    const res = await t.gql(query, variables);
    expect(res.body.errors).toBeUndefined();
    return res.body.extensions?.cost.requested as number;
  };

  const three = ids(3);
  const metrics = `[{ category: "ci", name: "dodge", value: 1 }, { category: "ci", name: "dodge", value: 2 }, { category: "ci", name: "dodge", value: 3 }, { category: "ci", name: "dodge", value: 4 }]`;
  // [formula, expected cost, root form, shapes that try to dodge it]
  const table: [string, number, string, string[]][] = [
    [
      'a record costs 1, and its records 1 each',
      2,
      `{ task(id: "${three[0]}") { id parent { id } } }`,
      [
        `{ ... on Query { task(id: "${three[0]}") { id parent { id } } } }`,
        `{ ...Q } fragment Q on Query { task(id: "${three[0]}") { ...T } } fragment T on Task { id parent { id } }`,
        `{ ... { ... on Query { ...Q } } } fragment Q on Query { task(id: "${three[0]}") { ... on Node { ... on Task { id parent { id } } } } }`,
      ],
    ],
    [
      'a connection costs first × one item',
      50 * 2,
      `{ tasks(first: 50) { nodes { id parent { id } } } }`,
      [
        `{ ... on Query { tasks(first: 50) { ... on TaskConnection { nodes { id parent { id } } } } } }`,
        `{ ...Q } fragment Q on Query { tasks(first: 50) { ...C } } fragment C on TaskConnection { nodes { ...T } } fragment T on Task { id parent { id } }`,
        `query($n: Int!) { ... on Query { tasks(first: $n) { edges { node { id ... on Task { parent { id } } } } } } }`,
      ],
    ],
    [
      'a list argument costs its length × one item, as that many aliases do',
      3 * (1 + 10),
      `{ a: task(id: "${three[0]}") { id subtasks(first: 10) { nodes { id } } } b: task(id: "${three[1]}") { id subtasks(first: 10) { nodes { id } } } c: task(id: "${three[2]}") { id subtasks(first: 10) { nodes { id } } } }`,
      [
        `{ nodes(ids: ${list(three)}) { id ... on Task { subtasks(first: 10) { nodes { id } } } } }`,
        `query($ids: [ID!]!) { ... on Query { nodes(ids: $ids) { ...N } } } fragment N on Node { id ... on Task { subtasks(first: 10) { nodes { id } } } }`,
        `{ x: nodes(ids: ${list(three.slice(0, 2))}) { id ...S } y: node(id: "${three[2]}") { id ...S } } fragment S on Task { subtasks(first: 10) { nodes { id } } }`,
      ],
    ],
    [
      'a mutation field adds 10 to what it returns',
      10 + 1,
      `mutation { createTask(input: { title: "root" }) { id } }`,
      [
        `mutation { ... on Mutation { createTask(input: { title: "inline" }) { id } } }`,
        `mutation { ...M } fragment M on Mutation { createTask(input: { title: "named" }) { id } }`,
        `mutation { ... { ...M } } fragment M on Mutation { ... on Mutation { made: createTask(input: { title: "nested" }) { ... on Task { id } } } }`,
      ],
    ],
    [
      'a batch adds 10, and 0.5 per listed sample',
      10 + 4 * 0.5,
      `mutation { recordMetrics(input: ${metrics}) { count } }`,
      [
        `mutation { ... on Mutation { recordMetrics(input: ${metrics}) { count } } }`,
        `mutation { ...M } fragment M on Mutation { ... on Mutation { batch: recordMetrics(input: ${metrics}) { count } } }`,
        `mutation($m: [MetricInput!]!) { ... on Mutation { recordMetrics(input: $m) { __typename } } }`,
      ],
    ],
    [
      'a request costed 0 still spends 1',
      1,
      `{ __typename }`,
      [`{ ... on Query { __typename } }`, `{ rateLimit { limit } }`, `{ ...Q } fragment Q on Query { metricCategories }`],
    ],
  ];

  it.each(table)('%s', async (_formula, expected, root, dodges) => {
    const variables = {
      n: 50,
      ids: three,
      m: [1, 2, 3, 4].map((value) => ({ category: 'ci', name: 'dodge', value })),
    };
    expect(await charged(root)).toBe(expected);
    for (const dodge of dodges) {
      const used = Object.fromEntries(Object.entries(variables).filter(([name]) => dodge.includes(`$${name}`)));
      expect([dodge, await charged(dodge, used)]).toEqual([dodge, expected]);
    }
  });

  it("refuses the issue's 30 aliases × nodes(ids: 100) × subtasks(first: 100) before any SQL runs", async () => {
    const viewer = await t.token(Role.VIEWER);
    const hundred = list(ids(100));
    const fields = Array.from(
      { length: 30 },
      (_, i) => `a${i}: nodes(ids: ${hundred}) { id ... on Task { title subtasks(first: 100) { nodes { id title description } } } }`,
    ).join(' ');
    const res = await t.gql(`{ ${fields} }`, undefined, { authorization: `Bearer ${viewer.token}` });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0].extensions).toEqual({ code: 'COST_LIMIT_EXCEEDED', cost: 30 * 100 * (1 + 100), maxCost: 10_000 });
    expect(res.body.data).toBeUndefined();
    expect(res.headers.get('x-sql-statements')).toBe('0');
    // one alias of it is already over: 100 × (1 + 100)
    const one = await t.gql(`{ nodes(ids: ${hundred}) { ... on Task { subtasks(first: 100) { nodes { id } } } } }`);
    expect(one.body.errors?.[0].extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', cost: 100 * 101 });
    expect(one.headers.get('x-sql-statements')).toBe('0');
  });
});

describe('a spent budget refuses every shape, and subscriptions', () => {
  let t: TestGateway;
  const open: Subscriber[] = [];
  beforeAll(async () => {
    t = await startTestGateway({ RATE_LIMIT_PER_MINUTE: '40', GRAPHQL_MAX_COST: '40' });
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.dispose().catch(() => undefined)));
    await t.close();
  });

  it('charges a subscription 10 at subscribe; once the budget is spent, fragments, free queries and subscriptions get RATE_LIMITED', async () => {
    // one minute window throughout
    const probe = await t.gql(`{ rateLimit { resetAt } }`);
    const left = new Date(probe.body.data.rateLimit.resetAt).getTime() - Date.now();
    if (left < 20_000) await new Promise((r) => setTimeout(r, left + 200));
    const remaining = async () => (await t.gql(`{ rateLimit { remaining } }`)).body.data.rateLimit.remaining as number;

    // a subscription selecting only scalars costs SUBSCRIPTION_MIN_COST (10), once
    const before = await remaining();
    const s = connect(t.baseUrl, t.adminToken);
    open.push(s);
    const live = s.subscribe(`subscription { taskChanged { cursor operation taskId } }`);
    await subscriptionsActive(t.baseUrl, 1); // /metrics: no budget spent
    expect(live.errors).toEqual([]);
    const after = await remaining();
    expect(before - after).toBe(10 + 1); // the subscription's 10 and this read's 1

    // spend the rest
    if (after > 0) {
      const spend = await t.gql(`{ apiTokens(first: ${after}) { id } }`);
      expect(spend.body.errors).toBeUndefined();
      expect(spend.body.extensions?.cost.remaining).toBe(0);
    }
    const metricsBefore = Number((await t.db.query(`SELECT count(*) AS n FROM system_metrics`))[0].n);
    for (const query of [
      `mutation { ... on Mutation { recordMetrics(input: [{ category: "ci", name: "spent", value: 1 }]) { count } } }`,
      `mutation { ...M } fragment M on Mutation { recordMetric(input: { category: "ci", name: "spent", value: 1 }) { id } }`,
      `{ __typename }`,
    ]) {
      const res = await t.gql(query);
      expect([query, res.status, res.body.errors?.[0].extensions?.code]).toEqual([query, 429, 'RATE_LIMITED']);
      expect(res.headers.get('x-sql-statements')).toBe('0');
    }
    expect(Number((await t.db.query(`SELECT count(*) AS n FROM system_metrics`))[0].n)).toBe(metricsBefore);

    const refused = s.subscribe(`subscription { taskChanged { cursor } }`);
    await refused.ended;
    expect(refused.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', cost: 10 });
    live.stop();
  }, 90_000);
});
