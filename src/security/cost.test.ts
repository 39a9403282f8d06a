import 'reflect-metadata';
import { buildSchema as buildSdl, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { costOf } from './cost';

const schema = buildSdl(`
  type Query { tasks(first: Int = 20, after: String, orderBy: [String!]): TaskConnection!  task(id: ID!): Task  plain: [Task!]!  items(last: Int): [Task!]!  nodes(ids: [ID!]!): [Task]! }
  type Mutation { createTask(title: String!): Task!  record(input: [String!]!): Payload!  tag(names: [String!]!): Int! }
  type Payload { count: Int! }
  type TaskConnection { edges: [TaskEdge!]! nodes: [Task!]! totalCount: Int! }
  type TaskEdge { cursor: String! node: Task! }
  type Task { id: ID! title: String! parent: Task subtasks(first: Int, last: Int): TaskConnection! }
`);

function cost(query: string, variables?: Record<string, unknown>, defaultPageSize = 10): number {
  const document = parse(query);
  const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  return costOf(schema, document, op, variables, { defaultPageSize }).cost;
}

describe('costOf', () => {
  it('costs scalars nothing and objects one each', () => {
    expect(cost('{ task(id: "1") { id title } }')).toBe(1);
    expect(cost('{ task(id: "1") { id parent { id parent { id } } } }')).toBe(3);
  });

  it('multiplies a connection by its first, using the argument default when absent; wrappers without an id cost nothing', () => {
    expect(cost('{ tasks(first: 50) { nodes { id } } }')).toBe(50 * 1);
    expect(cost('{ tasks(first: 50) { edges { cursor node { id parent { id } } } totalCount } }')).toBe(50 * 2);
    expect(cost('{ tasks(first: 50) { totalCount } }')).toBe(50); // at least 1 per item
    expect(cost('{ tasks { nodes { id } } }')).toBe(20 * 1); // schema default first: 20
  });

  it('counts a first above the page maximum as the maximum (validation refuses it anyway)', () => {
    expect(cost('{ tasks(first: 100000) { nodes { id } } }')).toBe(100);
  });

  it('uses the configured default page size when a connection has no default', () => {
    expect(cost('{ task(id: "1") { subtasks { totalCount } } }', undefined, 7)).toBe(1 + 7 * 1);
    // a given first is the page, whatever the default of the last it did not give
    expect(cost('{ task(id: "1") { subtasks(first: 3) { totalCount } } }', undefined, 7)).toBe(1 + 3 * 1);
    expect(cost('{ task(id: "1") { subtasks(last: 2) { totalCount } } }', undefined, 7)).toBe(1 + 2 * 1);
  });

  it('reads first/last from variables and multiplies nested connections', () => {
    const q = 'query($n: Int, $m: Int) { tasks(first: $n) { nodes { subtasks(first: $m) { nodes { id } } } } }';
    expect(cost(q, { n: 10, m: 5 })).toBe(10 * (1 + 5 * 1));
    expect(cost('{ items(last: 30) { id } }')).toBe(30);
    expect(cost('{ items(last: 30) { id parent { id } } }')).toBe(30 * 2);
  });

  it('counts fragments where they are spread, in linear time for fragment bombs', () => {
    expect(cost('{ tasks(first: 10) { ...F } } fragment F on TaskConnection { nodes { id parent { id } } }')).toBe(10 * 2);
    const levels = 40;
    let doc = '{ task(id: "1") { ...F0 } }';
    for (let i = 0; i < levels; i++) doc += ` fragment F${i} on Task { parent { ...F${i + 1} } p2: parent { ...F${i + 1} } }`;
    doc += ` fragment F${levels} on Task { id }`;
    expect(cost(doc)).toBeGreaterThan(2 ** levels); // exponential cost, computed quickly
  });

  it('adds a base cost per mutation field', () => {
    expect(cost('mutation { createTask(title: "x") { id } }')).toBe(1 + 10);
  });

  it('charges a mutation field inside a fragment (inline, named, nested) as at the root', () => {
    const root = cost('mutation { createTask(title: "x") { id } }');
    expect(cost('mutation { ... on Mutation { createTask(title: "x") { id } } }')).toBe(root);
    expect(cost('mutation { ...M } fragment M on Mutation { createTask(title: "x") { id } }')).toBe(root);
    expect(cost('mutation { ... { ...M } } fragment M on Mutation { ... on Mutation { createTask(title: "x") { id } } }')).toBe(root);
    expect(cost('mutation { a: createTask(title: "x") { id } ... on Mutation { b: createTask(title: "y") { id } } }')).toBe(2 * root);
  });

  it('multiplies a field by the length of its list argument, from a literal or a variable', () => {
    expect(cost('{ nodes(ids: ["1", "2", "3"]) { id } }')).toBe(3);
    expect(cost('query($ids: [ID!]!) { nodes(ids: $ids) { id subtasks(first: 5) { nodes { id } } } }', { ids: ['1', '2'] })).toBe(
      2 * (1 + 5),
    );
    expect(cost('{ nodes(ids: "1") { id } }')).toBe(1); // one value for a list is a list of one
    expect(cost('{ nodes(ids: []) { id } }')).toBe(0);
    // a batch answered by a wrapper or a scalar costs at least 1 per item, plus the mutation's own
    expect(cost('mutation { record(input: ["a", "b", "c"]) { count } }')).toBe(10 + 3);
    expect(cost('mutation { ... on Mutation { record(input: ["a", "b", "c"]) { count } } }')).toBe(10 + 3);
    expect(cost('mutation { tag(names: ["a", "b"]) }')).toBe(10 + 2);
    // paging decides for a connection; its other list arguments (orderBy) do not multiply
    expect(cost('{ tasks(first: 4, orderBy: ["a", "b", "c"]) { nodes { id } } }')).toBe(4);
  });

  it('costs introspection by its shape, through fragments too (as GraphiQL sends it)', () => {
    const inline = cost('{ __schema { types { name fields { name type { name ofType { name } } } } } }');
    expect(inline).toBe(1 + 1 + 1 + 1 + 1);
    expect(
      cost(
        '{ __schema { ...S } } fragment S on __Schema { types { ...T } } fragment T on __Type { name fields { name type { ...R } } } fragment R on __Type { name ofType { name } }',
      ),
    ).toBe(inline);
  });
});
