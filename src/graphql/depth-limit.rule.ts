import {
  getIntrospectionQuery,
  type GraphQLError,
  Kind,
  parse,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import depthLimit from 'graphql-depth-limit';
import { apiError } from './errors';

/** More selections than this, once fragments are expanded, is refused before depth is measured. */
export const MAX_EXPANDED_SELECTIONS = 20_000;

/**
 * The depth limit of graphql-depth-limit, behind a guard that makes it safe for hostile documents.
 * graphql-depth-limit walks fragments eagerly and without memory when the rule is created: a spread
 * of an unknown fragment crashes it (an HTTP 500), a fragment cycle recurses until the stack
 * overflows, and a "fragment bomb" (each fragment spreading the next twice) costs it 2^n steps. So
 * a linear, memoised pass runs first: documents with unknown or cyclic fragments are left to
 * GraphQL's own KnownFragmentNames and NoFragmentCycles rules (same validation pass, a 400), and a
 * document that expands beyond MAX_EXPANDED_SELECTIONS is refused here. Only then does
 * graphql-depth-limit measure the (now bounded) document.
 */
export function createDepthLimitRule(maxDepth: number) {
  // @types/graphql-depth-limit says `any`; the package returns a validation rule.
  const rule = depthLimit(maxDepth) as ValidationRule;
  return (context: ValidationContext): ASTVisitor => {
    const size = expandedSize(context.getDocument());
    if (size === 'unsound') return {};
    if (size > MAX_EXPANDED_SELECTIONS) {
      context.reportError(
        apiError(
          'GRAPHQL_VALIDATION_FAILED',
          `The document expands to more than ${MAX_EXPANDED_SELECTIONS} selections once its fragments are spread`,
          {
            details: { maxSelections: MAX_EXPANDED_SELECTIONS },
          },
        ),
      );
      return {};
    }
    // graphql-depth-limit skips every field starting with "__": introspection is measured here.
    const introspection = introspectionDepth(context.getDocument());
    if (introspection > MAX_INTROSPECTION_DEPTH) {
      context.reportError(
        apiError(
          'GRAPHQL_VALIDATION_FAILED',
          `An introspection selection is ${introspection} levels deep; at most ${MAX_INTROSPECTION_DEPTH} (the depth of the standard introspection query)`,
          { details: { maxIntrospectionDepth: MAX_INTROSPECTION_DEPTH } },
        ),
      );
      return {};
    }
    // graphql-depth-limit reports once per branch that is too deep; one error per operation is enough.
    const reported = new Set<string>();
    const once = Object.create(context, {
      reportError: {
        value: (error: GraphQLError) => {
          if (!reported.has(error.message)) {
            reported.add(error.message);
            context.reportError(error);
          }
        },
      },
    }) as ValidationContext;
    return rule(once);
  };
}

/**
 * The deepest selection under `__schema` or `__type` (fragments expanded, memoised; the document is
 * known to be sound and bounded by then).
 */
function introspectionDepth(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const depthMemo = new Map<string, number>();
  const introMemo = new Map<string, number>();
  // depth of a selection set (1 per field level)
  const depthOf = (set: SelectionSetNode): number => {
    let max = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) max = Math.max(max, 1 + (sel.selectionSet ? depthOf(sel.selectionSet) : 0));
      else if (sel.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depthOf(sel.selectionSet));
      else {
        const name = sel.name.value;
        if (!depthMemo.has(name)) depthMemo.set(name, fragments.has(name) ? depthOf(fragments.get(name)!.selectionSet) : 0);
        max = Math.max(max, depthMemo.get(name)!);
      }
    }
    return max;
  };
  // the deepest introspection subtree found anywhere in a selection set
  const introOf = (set: SelectionSetNode): number => {
    let max = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value === '__schema' || sel.name.value === '__type')
          max = Math.max(max, 1 + (sel.selectionSet ? depthOf(sel.selectionSet) : 0));
        else if (sel.selectionSet) max = Math.max(max, introOf(sel.selectionSet));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, introOf(sel.selectionSet));
      else {
        const name = sel.name.value;
        if (!introMemo.has(name)) introMemo.set(name, fragments.has(name) ? introOf(fragments.get(name)!.selectionSet) : 0);
        max = Math.max(max, introMemo.get(name)!);
      }
    }
    return max;
  };
  let max = 0;
  for (const def of document.definitions) if (def.kind === Kind.OPERATION_DEFINITION) max = Math.max(max, introOf(def.selectionSet));
  return max;
}

/** The introspection query's options as GraphiQL asks it (every one on). */
export const GRAPHIQL_INTROSPECTION = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
};
/** The standard introspection query with those options must pass; deeper is refused. */
export const MAX_INTROSPECTION_DEPTH = introspectionDepth(parse(getIntrospectionQuery(GRAPHIQL_INTROSPECTION)));

/** Selections in the document with every fragment spread expanded, in linear time (memoised). */
function expandedSize(document: DocumentNode): number | 'unsound' {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const memo = new Map<string, number>();
  const visiting = new Set<string>();
  let unsound = false;

  const sizeOf = (set: SelectionSetNode): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) total += 1 + (sel.selectionSet ? sizeOf(sel.selectionSet) : 0);
      else if (sel.kind === Kind.INLINE_FRAGMENT) total += sizeOf(sel.selectionSet);
      else {
        const name = sel.name.value;
        const fragment = fragments.get(name);
        if (!fragment || visiting.has(name)) {
          unsound = true;
          continue;
        }
        if (!memo.has(name)) {
          visiting.add(name);
          memo.set(name, sizeOf(fragment.selectionSet));
          visiting.delete(name);
        }
        total += memo.get(name) as number;
      }
      if (total > MAX_EXPANDED_SELECTIONS) return total; // no need to count further
    }
    return total;
  };

  let total = 0;
  for (const def of document.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION) total += sizeOf(def.selectionSet);
    if (unsound) return 'unsound';
  }
  // Unused fragments too: GraphQL's own rules report their unknown spreads and cycles.
  for (const fragment of fragments.values()) {
    sizeOf(fragment.selectionSet);
    if (unsound) return 'unsound';
  }
  return total;
}
