import type { ASTNode, ASTVisitor, ValidationContext } from 'graphql';
import { apiError } from '../graphql/errors';

export interface DocumentLimits {
  maxAliases: number;
  maxDirectives: number;
  /** Deepest nesting of list/object literals (JSON values written into the document). */
  maxJsonDepth: number;
}

/**
 * Validation rules against documents built to exhaust the server: alias floods (one field asked a
 * thousand times under different names), directive floods, and deeply nested literal values.
 * Each reports once and stops counting; GraphQL answers them with HTTP 400.
 */
export function createDocumentLimitRules(limits: DocumentLimits) {
  const aliasRule = (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias && ++aliases === limits.maxAliases + 1) {
          context.reportError(
            apiError(
              'GRAPHQL_VALIDATION_FAILED',
              `The document uses more than ${limits.maxAliases} aliases; split it into several requests`,
              {
                nodes: node,
                details: { limit: limits.maxAliases },
              },
            ),
          );
        }
      },
    };
  };
  const directiveRule = (context: ValidationContext): ASTVisitor => {
    let directives = 0;
    return {
      Directive(node) {
        if (++directives === limits.maxDirectives + 1) {
          context.reportError(
            apiError('GRAPHQL_VALIDATION_FAILED', `The document uses more than ${limits.maxDirectives} directives`, {
              nodes: node,
              details: { limit: limits.maxDirectives },
            }),
          );
        }
      },
    };
  };
  const literalDepthRule = (context: ValidationContext): ASTVisitor => {
    let depth = 0;
    let reported = false;
    const enter = (node: ASTNode) => {
      if (++depth > limits.maxJsonDepth && !reported) {
        reported = true;
        context.reportError(
          apiError('GRAPHQL_VALIDATION_FAILED', `A value in the document is nested deeper than ${limits.maxJsonDepth} levels`, {
            nodes: node,
            details: { limit: limits.maxJsonDepth },
          }),
        );
      }
    };
    const leave = () => void depth--;
    return { ObjectValue: { enter, leave }, ListValue: { enter, leave } };
  };
  return [aliasRule, directiveRule, literalDepthRule];
}

/**
 * The nesting depth of a parsed JSON value, counted without recursion (a hostile 100,000-deep
 * value must not overflow the stack of the code that checks it). Stops once past `limit`.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
    }
  }
  return false;
}
