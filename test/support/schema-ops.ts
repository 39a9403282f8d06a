import { randomUUID } from 'node:crypto';

/** Introspection of the root fields, enough to call each one with made-up arguments. */
export const ROOT_FIELDS_QUERY = `{
  __schema {
    queryType { fields { name args { name type { ...T } } type { ...T } } }
    mutationType { fields { name args { name type { ...T } } type { ...T } } }
    types { name kind inputFields { name type { ...T } } enumValues { name } }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`;

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface RootField {
  name: string;
  args: { name: string; type: TypeRef }[];
  type: TypeRef;
}
interface NamedType {
  name: string;
  kind: string;
  inputFields: { name: string; type: TypeRef }[] | null;
  enumValues: { name: string }[] | null;
}

export interface SchemaOps {
  queries: RootField[];
  mutations: RootField[];
  /** An operation calling the field with made-up values for its required arguments. */
  call(kind: 'query' | 'mutation', field: RootField): { query: string; variables: Record<string, unknown> };
}

function typeString(t: TypeRef): string {
  if (t.kind === 'NON_NULL') return `${typeString(t.ofType as TypeRef)}!`;
  if (t.kind === 'LIST') return `[${typeString(t.ofType as TypeRef)}]`;
  return t.name as string;
}

function named(t: TypeRef): TypeRef {
  return t.ofType ? named(t.ofType) : t;
}

export function schemaOps(schema: any): SchemaOps {
  const types = new Map<string, NamedType>(schema.types.map((t: NamedType) => [t.name, t]));
  const value = (t: TypeRef, depth = 0): unknown => {
    if (t.kind === 'NON_NULL') return value(t.ofType as TypeRef, depth);
    if (t.kind === 'LIST') return [value(t.ofType as TypeRef, depth)];
    const type = types.get(t.name as string) as NamedType;
    switch (type.kind) {
      case 'ENUM':
        return (type.enumValues as { name: string }[])[0].name;
      case 'INPUT_OBJECT':
        return Object.fromEntries(
          (type.inputFields ?? []).filter((f) => f.type.kind === 'NON_NULL' && depth < 5).map((f) => [f.name, value(f.type, depth + 1)]),
        );
    }
    switch (type.name) {
      case 'String':
      case 'ID':
        return 'x';
      case 'Int':
        return 1;
      case 'Float':
        return 1.5;
      case 'Boolean':
        return true;
      case 'UUID':
        return randomUUID();
      case 'DateTime':
        return new Date(Date.now() + 86_400_000).toISOString();
      case 'JSON':
        return [];
      case 'JSONObject':
        return {};
      default:
        return 'x';
    }
  };
  return {
    queries: schema.queryType.fields.filter((f: RootField) => !f.name.startsWith('__')),
    mutations: schema.mutationType?.fields ?? [],
    call(kind, field) {
      const required = field.args.filter((a) => a.type.kind === 'NON_NULL');
      const decl = required.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
      const args = required.map((a) => `${a.name}: $${a.name}`).join(', ');
      const leaf = ['SCALAR', 'ENUM'].includes(named(field.type).kind);
      const query = `${kind} Call${decl ? `(${decl})` : ''} { ${field.name}${args ? `(${args})` : ''}${leaf ? '' : ' { __typename }'} }`;
      return { query, variables: Object.fromEntries(required.map((a) => [a.name, value(a.type)])) };
    },
  };
}
