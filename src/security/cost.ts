import {
  getNamedType,
  isCompositeType,
  getNullableType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { MAX_PAGE_SIZE } from '../config/page-size';

/** The least a request spends from its budget, whatever its cost: every request counts. */
export const REQUEST_MIN_COST = 1;
/** The least a subscription spends, once, when it is subscribed (it holds a change-log reader while it runs). */
export const SUBSCRIPTION_MIN_COST = 10;

export interface CostOptions {
  /** Page size assumed for a list field with first/last arguments when none is given. */
  defaultPageSize: number;
  /** Extra points for each root mutation field (a write costs more than a read). */
  mutationCost?: number;
}

/**
 * The cost of an operation, computed from the document before anything runs (GitHub's and
 * Shopify's model):
 *   - a scalar or enum field costs 0;
 *   - a record (an object type with an `id` field) costs 1 plus the cost of its selections; a
 *     wrapper object without an id (a connection, an edge, pageInfo) costs only its selections;
 *   - a field taking `first` or `last` (a connection, or a bounded list) costs that number
 *     (its default, or `defaultPageSize`, when absent) times the cost of one item (at least 1),
 *     so nesting multiplies;
 *   - any other field taking a list argument (`nodes(ids:)`, `recordMetrics(input:)`) costs the
 *     list's length (the longest, if several) times the cost of one item (at least 1, or the
 *     field's `extensions: { costPerItem: n }`): what it selects or writes is one item per entry;
 *   - each mutation field (a field of the mutation root type) adds `mutationCost`, and a field
 *     declaring `extensions: { cost: n }` adds n.
 * Fragments, named and inline, are counted where they are spread, at every level (a mutation field
 * inside `... on Mutation` is still a mutation field); all branches of a union/interface are added
 * up (an upper bound); aliases count each time. Generic on purpose: any field with a `first`/`last`
 * argument is a connection, any list argument of another field a batch.
 *
 * Returned with whether it depends on the variables (a first/last given by a variable): when it
 * does not, it is the same for every request with this document and operation.
 */
export function costOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  options: CostOptions,
): { cost: number; byVariables: boolean } {
  let byVariables = false;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  // Fragment costs memoised per fragment: a document that spreads fragments into fragments
  // ("fragment bomb") is costed in linear time.
  const memo = new Map<string, number>();
  const visiting = new Set<string>();

  // The page a connection returns: the given first/last (the larger, if both); when neither is
  // given, the schema default of either, else defaultPageSize.
  const pageSize = (node: FieldNode, def: GraphQLField<unknown, unknown>): number => {
    const size = (name: string, given: boolean): number | undefined => {
      const argDef = def.args.find((a) => a.name === name);
      if (!argDef) return undefined;
      const argNode = node.arguments?.find((a) => a.name.value === name);
      if (argNode?.value.kind === Kind.VARIABLE) byVariables = true;
      const value: unknown = given && argNode ? valueFromASTUntyped(argNode.value, variables) : argDef.defaultValue;
      if (given && (value === undefined || value === null)) return undefined;
      const n = typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : options.defaultPageSize;
      // above the maximum counts as the maximum: argument validation refuses such a request
      // anyway, with a better message than a cost error
      return Math.min(n, MAX_PAGE_SIZE);
    };
    const given = ['first', 'last'].map((name) => size(name, true)).filter((n) => n !== undefined);
    if (given.length > 0) return Math.max(...given);
    const defaults = ['first', 'last'].map((name) => size(name, false)).filter((n) => n !== undefined);
    return defaults.length > 0 ? Math.max(...defaults) : 1;
  };

  // The longest list argument of a field without paging (a single value given for a list counts as one).
  const listLength = (node: FieldNode, def: GraphQLField<unknown, unknown>): number | undefined => {
    let length: number | undefined;
    for (const argDef of def.args) {
      if (!isListType(getNullableType(argDef.type))) continue;
      const argNode = node.arguments?.find((a) => a.name.value === argDef.name);
      if (argNode?.value.kind === Kind.VARIABLE) byVariables = true;
      let value: unknown = argNode ? valueFromASTUntyped(argNode.value, variables) : undefined;
      if (value === undefined) value = argDef.defaultValue;
      const n = Array.isArray(value) ? value.length : value == null ? 0 : 1;
      length = Math.max(length ?? 0, n);
    }
    return length;
  };

  // Introspection is costed by its shape: one point per object selected, fragments included.
  const introspectionMemo = new Map<string, number>();
  const introspectionCost = (set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let n = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) n += sel.selectionSet ? 1 + introspectionCost(sel.selectionSet) : 0;
      else if (sel.kind === Kind.INLINE_FRAGMENT) n += introspectionCost(sel.selectionSet);
      else {
        const name = sel.name.value;
        const fragment = fragments.get(name);
        if (!fragment || visiting.has(name)) continue;
        if (!introspectionMemo.has(name)) {
          visiting.add(name);
          introspectionMemo.set(name, introspectionCost(fragment.selectionSet));
          visiting.delete(name);
        }
        n += introspectionMemo.get(name) as number;
      }
    }
    return n;
  };

  // Mutation fields are known by their parent type, so a fragment on Mutation cannot hide one.
  const mutationRoot = schema.getMutationType();
  const mutationCost = options.mutationCost ?? 10;

  const selectionsCost = (set: SelectionSetNode | undefined, parent: GraphQLCompositeType): number => {
    if (!set) return 0;
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) {
          total += sel.name.value === '__typename' ? 0 : 1 + introspectionCost(sel.selectionSet);
          continue;
        }
        if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
        const def = parent.getFields()[sel.name.value];
        if (!def) continue; // validation reports unknown fields
        // A field may declare a flat cost of its own (type-graphql's @Extensions({ cost })).
        const own = typeof def.extensions?.cost === 'number' ? def.extensions.cost : 0;
        total += own + (parent === mutationRoot ? mutationCost : 0);
        const type = getNamedType(def.type);
        const hasPaging = def.args.some((a) => a.name === 'first' || a.name === 'last');
        const listed = hasPaging ? undefined : listLength(sel, def);
        const perItem = typeof def.extensions?.costPerItem === 'number' ? def.extensions.costPerItem : 1;
        if (isLeafType(type)) {
          if (listed !== undefined) total += listed * perItem; // a batch answered by a scalar still writes its items
          continue;
        }
        const record = (isObjectType(type) || isInterfaceType(type)) && !('id' in type.getFields()) ? 0 : 1;
        const item = record + selectionsCost(sel.selectionSet, type as GraphQLCompositeType);
        if (hasPaging) total += pageSize(sel, def) * Math.max(1, item);
        else if (listed !== undefined) total += listed * Math.max(perItem, item);
        else total += item;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        total += selectionsCost(sel.selectionSet, isCompositeType(type) ? type : parent);
      } else {
        const name = sel.name.value;
        const fragment = fragments.get(name);
        if (!fragment || visiting.has(name)) continue; // validation reports unknown fragments and cycles
        if (!memo.has(name)) {
          visiting.add(name);
          const type = schema.getType(fragment.typeCondition.name.value);
          memo.set(name, selectionsCost(fragment.selectionSet, isCompositeType(type) ? type : parent));
          visiting.delete(name);
        }
        total += memo.get(name) as number;
      }
    }
    return total;
  };

  const root = schema.getRootType(operation.operation);
  if (!root) return { cost: 0, byVariables: false };
  return { cost: selectionsCost(operation.selectionSet, root), byVariables };
}
