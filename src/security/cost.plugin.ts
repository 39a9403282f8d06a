import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLRequestListener } from '@apollo/server';
import { budgetKey } from '../auth/principal';
import type { Context } from '../graphql/context';
import type { DocumentNode } from 'graphql';
import { costLimitExceeded, rateLimited } from './budget.refusals';
import { costOf, REQUEST_MIN_COST } from './cost';
import { asOutage } from '../graphql/errors';
import { isHealthRead } from '../graphql/plugins/outage.plugin';
import { requestStats } from '../request';
import type { BudgetState, RefundingRateLimiter } from './rate-limiter';

declare module '../graphql/context' {
  interface Context {
    /** This request's cost and what is left of the token's budget (set before execution). */
    budget?: BudgetState;
  }
}

export interface CostPluginOptions {
  /** Refuse operations costing more than this (GRAPHQL_MAX_COST). */
  maxCost: number;
  /** Page size assumed for a connection without first/last (GRAPHQL_DEFAULT_PAGE_SIZE). */
  defaultPageSize: number;
  rateLimiter: RefundingRateLimiter;
}

/**
 * Query cost and the per-minute budget. Once the operation is known (parsed and validated) and
 * before anything executes: its cost is computed (see cost.ts; at least REQUEST_MIN_COST, so a
 * request costed 0 still counts against the per-minute budget); over `maxCost` it is refused
 * (HTTP 400, the cost in the error); otherwise it is charged to the token's budget, and refused
 * with RATE_LIMITED (HTTP 429, Retry-After) when it does not fit. A request that then executed
 * nothing (see executedNothing) gets its charge back before the response is sent. Every response
 * carries `extensions.cost { requested remaining limit resetAt }`, after any refund.
 */
export function createCostPlugin({ maxCost, defaultPageSize, rateLimiter }: CostPluginOptions): ApolloServerPlugin<Context> {
  // A document's cost, once per document and operation when no variable changes it (Apollo's
  // document cache hands back the same parsed document for the same text).
  const costs = new WeakMap<DocumentNode, Map<string, number>>();
  const costFor = (rc: GraphQLRequestContext<Context>): number => {
    const document = rc.document!;
    let byOperation = costs.get(document);
    if (!byOperation) costs.set(document, (byOperation = new Map<string, number>()));
    const name = rc.operationName ?? '';
    let cost = byOperation.get(name);
    if (cost === undefined) {
      const computed = costOf(rc.schema, document, rc.operation!, rc.request.variables, { defaultPageSize });
      // every request spends at least REQUEST_MIN_COST: a free query still counts against the budget
      cost = Math.max(REQUEST_MIN_COST, Math.ceil(computed.cost));
      if (!computed.byVariables) byOperation.set(name, cost);
    }
    return cost;
  };
  // One listener for every request: what a request needs is in its context (ctx.budget).
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation(rc: GraphQLRequestContext<Context>) {
      const ctx = rc.contextValue;
      if (!rc.operation || !rc.document) return; // refused as OPERATION_RESOLUTION_FAILURE
      const cost = costFor(rc);
      const key = budgetKey(ctx.principal);
      // The budget store out of reach: 503, except for a health read (an operator asking why).
      const fromStore = <T>(work: Promise<T>): Promise<T | undefined> =>
        work.catch((error) => {
          const outage = asOutage(error);
          if (!outage) throw error;
          if (isHealthRead(rc.operation)) return undefined;
          throw outage;
        });
      if (cost > maxCost) {
        const peeked = await fromStore(rateLimiter.peek(key));
        if (peeked) ctx.budget = { ...peeked, requested: cost, allowed: false };
        throw costLimitExceeded(cost, maxCost);
      }
      const state = await fromStore(rateLimiter.charge(key, cost));
      if (!state) return;
      ctx.budget = state;
      if (!state.allowed) {
        throw rateLimited(cost, state);
      }
    },
    async willSendResponse(rc: GraphQLRequestContext<Context>) {
      const ctx = rc.contextValue;
      if (ctx.budget?.allowed && ctx.budget.requested > 0 && executedNothing(rc)) {
        ctx.budget = rateLimiter.refund(budgetKey(ctx.principal), ctx.budget);
      }
      let state: BudgetState | undefined = ctx.budget;
      if (!state) {
        try {
          state = await rateLimiter.peek(budgetKey(ctx.principal));
        } catch {
          return; // the store is unreachable: the response itself says what went wrong
        }
      }
      if (rc.response.body?.kind !== 'single') return;
      const result = rc.response.body.singleResult;
      result.extensions = {
        ...result.extensions,
        cost: { requested: state.requested, remaining: state.remaining, limit: state.limit, resetAt: state.resetAt.toISOString() },
      };
      rc.response.http.headers.set('x-ratelimit-limit', String(state.limit));
      rc.response.http.headers.set('x-ratelimit-remaining', String(state.remaining));
      rc.response.http.headers.set('x-ratelimit-reset', String(Math.ceil(state.resetAt.getTime() / 1000)));
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

/**
 * The one rule for refunds: a request executed nothing when it sent no SQL statement and answered
 * errors and no data (no root field with a value). Bad input found by a resolver, a variable that
 * does not coerce, a refusal after the charge, or an outage noticed before the first statement
 * (the pool's connect failed) all qualify. A statement sent counts as work even if it failed or its
 * outcome is unknown (a timeout, a constraint, OUTCOME_UNKNOWN), and so does any data answered.
 */
function executedNothing(rc: GraphQLRequestContext<Context>): boolean {
  if (requestStats.getStore()?.sqlStatements !== 0 || rc.response.body?.kind !== 'single') return false;
  const { data, errors } = rc.response.body.singleResult;
  return (errors?.length ?? 0) > 0 && (data == null || Object.values(data).every((value) => value == null));
}
