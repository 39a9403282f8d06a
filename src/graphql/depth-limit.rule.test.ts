import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { createDepthLimitRule, GRAPHIQL_INTROSPECTION } from './depth-limit.rule';

const schema = buildSchema(`type Query { task: Task } type Task { id: ID parent: Task }`);
const errors = (doc: string, max = 3) => validate(schema, parse(doc), [...specifiedRules, createDepthLimitRule(max)]).map((e) => e.message);

describe('depth limit rule', () => {
  it('counts nesting below the root, through inline and named fragments', () => {
    expect(errors('{ task { parent { parent { id } } } }')).toEqual([]); // depth 3
    expect(errors('{ task { parent { parent { parent { id } } } } }')).toEqual([
      expect.stringMatching(/exceeds maximum operation depth of 3/),
    ]);
    expect(errors('query Q { task { ... on Task { parent { ...P } } } } fragment P on Task { parent { parent { id } } }')).toEqual([
      expect.stringMatching(/'Q' exceeds/),
    ]);
  });

  const bomb = (levels: number) => {
    let doc = '{ task { ...F0 } }';
    for (let i = 0; i < levels; i++) doc += ` fragment F${i} on Task { parent { ...F${i + 1} } p: parent { ...F${i + 1} } }`;
    return `${doc} fragment F${levels} on Task { id }`;
  };

  it('refuses a fragment bomb by its expanded size, in linear time, before graphql-depth-limit walks it', () => {
    expect(errors(bomb(60), 100)).toEqual([expect.stringMatching(/expands to more than 20000 selections/)]);
  });

  it('measures a small fragment fan-out by depth', () => {
    expect(errors(bomb(8), 100)).toEqual([]); // 2^9 selections, depth 9
    expect(errors(bomb(8), 5)).toEqual([expect.stringMatching(/exceeds maximum operation depth of 5/)]); // once, not once per branch
  });

  it('leaves fragment cycles and unknown fragments to GraphQL', () => {
    expect(errors('{ task { ...A } } fragment A on Task { parent { ...A } }')).toEqual([
      expect.stringMatching(/Cannot spread fragment "A" within itself/),
    ]);
    expect(errors('{ task { ...Nope } }')).toEqual([expect.stringMatching(/Unknown fragment "Nope"/)]);
  });
});

describe('introspection depth', () => {
  const ofTypes = (n: number) => `${'ofType { '.repeat(n)}name${' }'.repeat(n)}`;
  it('lets the standard introspection query through and refuses a 50-deep one', () => {
    const { getIntrospectionQuery } = jest.requireActual('graphql');
    expect(errors(getIntrospectionQuery(GRAPHIQL_INTROSPECTION), 3)).toEqual([]);
    expect(errors(`{ __schema { types { fields { type { ${ofTypes(50)} } } } } }`, 100)).toEqual([
      expect.stringMatching(/introspection selection is 55 levels deep; at most \d+/),
    ]);
    expect(
      errors(
        `query A { task { id } } query Q { ...F } fragment F on Query { __type(name: "Task") { fields { type { ${ofTypes(50)} } } } }`,
        100,
      ),
    ).toEqual([expect.stringMatching(/introspection selection is \d+ levels deep/)]);
  });
});
