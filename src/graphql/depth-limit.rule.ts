import { GraphQLError, Kind, type ASTVisitor, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import depthLimit from 'graphql-depth-limit';

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
  const rule = depthLimit(maxDepth);
  return (context: ValidationContext): ASTVisitor => {
    const size = expandedSize(context.getDocument());
    if (size === 'unsound') return {};
    if (size > MAX_EXPANDED_SELECTIONS) {
      context.reportError(
        new GraphQLError(`The document expands to more than ${MAX_EXPANDED_SELECTIONS} selections once its fragments are spread`, {
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED', maxSelections: MAX_EXPANDED_SELECTIONS },
        }),
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
    return rule(once) as unknown as ASTVisitor;
  };
}

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
