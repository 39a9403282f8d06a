import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { createDepthLimitRule } from './depth-limit.rule';

const schema = buildSchema(`type Query { task: Task } type Task { id: ID parent: Task }`);
const errors = (doc: string, max = 3) => validate(schema, parse(doc), [...specifiedRules, createDepthLimitRule(max)]).map((e) => e.message);

describe('depth limit rule', () => {
  it('counts nesting below the root, through inline and named fragments', () => {
    expect(errors('{ task { parent { parent { id } } } }')).toEqual([]); // depth 3
    expect(errors('{ task { parent { parent { parent { id } } } } }')).toEqual([expect.stringMatching(/exceeds maximum operation depth of 3 \(it has 4\)/)]);
    expect(errors('query Q { task { ... on Task { parent { ...P } } } } fragment P on Task { parent { parent { id } } }')).toEqual([
      expect.stringMatching(/'Q' exceeds/),
    ]);
  });

  it('measures a fragment bomb in linear time', () => {
    let doc = '{ task { ...F0 } }';
    for (let i = 0; i < 60; i++) doc += ` fragment F${i} on Task { parent { ...F${i + 1} } p: parent { ...F${i + 1} } }`;
    doc += ' fragment F60 on Task { id }';
    expect(errors(doc, 100)).toEqual([]);
    expect(errors(doc, 10)).toEqual([expect.stringMatching(/it has 61/)]);
  });

  it('leaves fragment cycles and unknown fragments to GraphQL', () => {
    expect(errors('{ task { ...A } } fragment A on Task { parent { ...A } }')).toEqual([expect.stringMatching(/Cannot spread fragment "A" within itself/)]);
    expect(errors('{ task { ...Nope } }')).toEqual([expect.stringMatching(/Unknown fragment "Nope"/)]);
  });
});
