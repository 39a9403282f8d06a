import { Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The fields selected under a path of the current field (e.g. `['edges', 'node']`), through
 * fragments and inline fragments. `@include`/`@skip` are ignored: a field they may drop is still
 * read, which is safe.
 */
export function selectedFields(info: GraphQLResolveInfo, path: readonly string[] = []): ReadonlySet<string> {
  // The same field nodes come back for every row of a list and, through Apollo's document cache, for
  // every request with the same document: work each selection out once.
  let byPath = memo.get(info.fieldNodes);
  if (!byPath) memo.set(info.fieldNodes, (byPath = new Map<string, Set<string>>()));
  const key = path.join('.');
  let fields = byPath.get(key);
  if (!fields) byPath.set(key, (fields = collect(info, path)));
  return fields;
}

const memo = new WeakMap<GraphQLResolveInfo['fieldNodes'], Map<string, Set<string>>>();

function collect(info: GraphQLResolveInfo, path: readonly string[]): Set<string> {
  let sets: SelectionSetNode[] = info.fieldNodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
  for (const name of path) {
    sets = fieldsIn(sets, info.fragments)
      .filter((f) => f.name.value === name)
      .flatMap((f) => (f.selectionSet ? [f.selectionSet] : []));
  }
  return new Set(fieldsIn(sets, info.fragments).map((f) => f.name.value));
}

function fieldsIn(sets: SelectionSetNode[], fragments: Record<string, FragmentDefinitionNode>, seen = new Set<string>()): FieldNode[] {
  const out: FieldNode[] = [];
  for (const set of sets) {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) out.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsIn([s.selectionSet], fragments, seen));
      else if (!seen.has(s.name.value) && fragments[s.name.value]) {
        seen.add(s.name.value);
        out.push(...fieldsIn([fragments[s.name.value].selectionSet], fragments, seen));
      }
    }
  }
  return out;
}

/** What a connection field asks for: the node fields (under `nodes` and `edges.node`) and whether `totalCount` is read. */
export interface ConnectionSelection {
  nodeFields: ReadonlySet<string>;
  totalCount: boolean;
}

export function connectionSelection(info: GraphQLResolveInfo): ConnectionSelection {
  let selection = connections.get(info.fieldNodes);
  if (!selection) {
    selection = {
      nodeFields: new Set([...selectedFields(info, ['nodes']), ...selectedFields(info, ['edges', 'node'])]),
      totalCount: selectedFields(info).has('totalCount'),
    };
    connections.set(info.fieldNodes, selection);
  }
  return selection;
}

const connections = new WeakMap<GraphQLResolveInfo['fieldNodes'], ConnectionSelection>();
