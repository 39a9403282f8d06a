import { Kind, visit, type ASTVisitor, type DocumentNode, type ValidationContext } from 'graphql';
import depthLimit from 'graphql-depth-limit';

/**
 * graphql-depth-limit, made safe for hostile documents. It walks fragments eagerly when the rule is
 * created, so a spread of an unknown fragment crashes it (a TypeError, an HTTP 500) and a fragment
 * cycle recurses until the stack overflows. For such documents it stands aside: GraphQL's own
 * KnownFragmentNames and NoFragmentCycles rules, run in the same pass, report them as 400s.
 */
export function createDepthLimitRule(maxDepth: number) {
  const rule = depthLimit(maxDepth);
  return (context: ValidationContext): ASTVisitor => {
    if (!fragmentsAreSound(context.getDocument())) return {};
    return rule(context) as unknown as ASTVisitor;
  };
}

function fragmentsAreSound(document: DocumentNode): boolean {
  const spreads = new Map<string, Set<string>>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) spreads.set(definition.name.value, spreadNames(definition));
  }
  for (const definition of document.definitions) {
    for (const name of spreadNames(definition)) if (!spreads.has(name)) return false;
  }
  // Depth-first search for a cycle among fragments.
  const state = new Map<string, 'visiting' | 'done'>();
  const cyclic = (name: string): boolean => {
    if (state.get(name) === 'done') return false;
    if (state.get(name) === 'visiting') return true;
    state.set(name, 'visiting');
    for (const next of spreads.get(name) ?? []) if (cyclic(next)) return true;
    state.set(name, 'done');
    return false;
  };
  return ![...spreads.keys()].some(cyclic);
}

function spreadNames(node: Parameters<typeof visit>[0]): Set<string> {
  const names = new Set<string>();
  visit(node, { FragmentSpread: (spread) => void names.add(spread.name.value) });
  return names;
}
