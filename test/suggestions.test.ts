import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * graphql-js answers a misspelt name with `Did you mean "title"?`: with introspection off, that
 * would hand the schema out piece by piece. Suggestions are dropped whenever introspection is off.
 */
const FIELD = '{ tasks(first: 1) { nodes { titel } } }';
const ENUM_LITERAL = '{ tasks(first: 1, filter: { status: [PENDIN] }) { totalCount } }';
const ENUM_VARIABLE = 'query($s: [TaskStatus!]) { tasks(first: 1, filter: { status: $s }) { totalCount } }';

async function messages(t: TestGateway): Promise<string[]> {
  const out: string[] = [];
  for (const [query, variables] of [
    [FIELD, undefined],
    [ENUM_LITERAL, undefined],
    [ENUM_VARIABLE, { s: ['PENDIN'] }],
  ] as const) {
    const res = await t.gql(query, variables);
    expect(res.body.errors?.[0].extensions?.code).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT/);
    out.push(res.body.errors?.[0].message as string);
  }
  return out;
}

describe('"Did you mean" suggestions', () => {
  it('are dropped when introspection is off (field, enum literal, enum variable)', async () => {
    const t = await startTestGateway({ GRAPHQL_INTROSPECTION: 'false' });
    try {
      const [field, literal, variable] = await messages(t);
      expect(field).toBe('Cannot query field "titel" on type "Task".');
      expect(literal).toMatch(/^Value "PENDIN" does not exist in "TaskStatus" enum\.$/);
      expect(variable).toMatch(/Value "PENDIN" does not exist in "TaskStatus" enum\.$/);
      for (const m of [field, literal, variable]) expect(m).not.toMatch(/Did you mean|title|PENDING/);
    } finally {
      await t.close();
    }
  });

  it('are kept when introspection is on (the IDE shows the schema anyway)', async () => {
    const t = await startTestGateway({ GRAPHQL_INTROSPECTION: 'true' });
    try {
      for (const m of await messages(t)) expect(m).toMatch(/Did you mean .*\?$/);
    } finally {
      await t.close();
    }
  });
});
