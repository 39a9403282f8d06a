import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';

/**
 * Maximum operation depth (root fields are depth 0, so `{ tasks { id } }` has depth 1).
 *
 * Written here rather than taken from graphql-depth-limit, which walks fragments without memory:
 * a "fragment bomb" (each fragment spreading the next one twice) costs it 2^n steps, blocks the
 * event loop for seconds and ends in an HTTP 500. Fragment depths are memoised here, so any
 * document is measured in linear time; unknown fragments and cycles are left to GraphQL's own
 * KnownFragmentNames and NoFragmentCycles rules, which run in the same pass.
 */
export function createDepthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => ({
    Document(document) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
      const memo = new Map<string, number>();
      const visiting = new Set<string>();

      // Depth of the deepest field inside a selection set whose fields sit at depth `0`.
      const depthOf = (set: SelectionSetNode): number => {
        let deepest = 0;
        for (const sel of set.selections) {
          if (sel.kind === Kind.FIELD) {
            deepest = Math.max(deepest, sel.selectionSet ? 1 + depthOf(sel.selectionSet) : 0);
          } else if (sel.kind === Kind.INLINE_FRAGMENT) {
            deepest = Math.max(deepest, depthOf(sel.selectionSet));
          } else {
            const name = sel.name.value;
            const fragment = fragments.get(name);
            if (!fragment || visiting.has(name)) continue;
            if (!memo.has(name)) {
              visiting.add(name);
              memo.set(name, depthOf(fragment.selectionSet));
              visiting.delete(name);
            }
            deepest = Math.max(deepest, memo.get(name) as number);
          }
        }
        return deepest;
      };

      for (const def of document.definitions) {
        if (def.kind !== Kind.OPERATION_DEFINITION) continue;
        const depth = depthOf(def.selectionSet);
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`'${def.name?.value ?? 'anonymous operation'}' exceeds maximum operation depth of ${maxDepth} (it has ${depth})`, {
              nodes: def,
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', maxDepth, depth },
            }),
          );
        }
      }
    },
  });
}
