import type { GraphQLError } from 'graphql';
import { apiError } from '../graphql/errors';
import type { BudgetState } from './rate-limiter';

/*
 * The cost and budget refusals, one wording whichever transport carries the operation: the
 * pipeline's charge (pipeline.ts), which Apollo's cost plugin (HTTP, cost.plugin.ts) and the
 * WebSocket subscribe (subscriptions/ws-operations.ts) both call, answers these.
 */

/** COST_LIMIT_EXCEEDED: the operation costs more than GRAPHQL_MAX_COST (HTTP 400). */
export function costLimitExceeded(cost: number, maxCost: number): GraphQLError {
  return apiError(
    'COST_LIMIT_EXCEEDED',
    `This query costs ${cost} points, more than the ${maxCost} allowed per query: ask for fewer items (first/last) or less nesting`,
    { details: { cost, maxCost }, status: 400 },
  );
}

/** RATE_LIMITED: the charge did not fit the token's per-minute budget (HTTP 429, Retry-After). */
export function rateLimited(cost: number, state: BudgetState): GraphQLError {
  const retryAfter = Math.max(1, Math.ceil((state.resetAt.getTime() - Date.now()) / 1000));
  return apiError(
    'RATE_LIMITED',
    `Rate limit exceeded: this query costs ${cost} points and ${state.remaining} of ${state.limit} are left until ${state.resetAt.toISOString()}`,
    {
      details: { cost, remaining: state.remaining, resetAt: state.resetAt.toISOString() },
      status: 429,
      headers: { 'retry-after': String(retryAfter) },
    },
  );
}
