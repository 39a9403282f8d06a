import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLRequestListener } from '@apollo/server';
import { budgetKey } from '../auth/principal';
import type { Context } from '../graphql/context';
import { REQUEST_MIN_COST } from './cost';
import { asOutage } from '../graphql/errors';
import { isHealthRead } from '../graphql/plugins/outage.plugin';
import { requestStats } from '../request';
import type { OperationPipeline } from './pipeline';
import type { BudgetState, RefundingRateLimiter } from './rate-limiter';

declare module '../graphql/context' {
  interface Context {
    /** This request's cost and what is left of the token's budget (set before execution). */
    budget?: BudgetState;
  }
}

export interface CostPluginOptions {
  /** The cost and budget step both transports run (pipeline.ts). */
  pipeline: OperationPipeline;
  rateLimiter: RefundingRateLimiter;
}

/**
 * Query cost and the per-minute budget, the pipeline's cost and budget step for HTTP. Once the
 * operation is known (parsed and validated) and before anything executes: its cost is computed
 * (see cost.ts; at least REQUEST_MIN_COST, so a request costed 0 still counts against the
 * per-minute budget); over GRAPHQL_MAX_COST it is refused (HTTP 400, the cost in the error);
 * otherwise it is charged to the token's budget, and refused with RATE_LIMITED (HTTP 429,
 * Retry-After) when it does not fit. A request that then executed nothing (see executedNothing)
 * gets its charge back before the response is sent. Every response carries
 * `extensions.cost { requested remaining limit resetAt }`, after any refund.
 */
export function createCostPlugin({ pipeline, rateLimiter }: CostPluginOptions): ApolloServerPlugin<Context> {
  // One listener for every request: what a request needs is in its context (ctx.budget).
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation(rc: GraphQLRequestContext<Context>) {
      const ctx = rc.contextValue;
      if (!rc.operation || !rc.document) return; // refused as OPERATION_RESOLUTION_FAILURE
      const cost = pipeline.cost(rc.document, rc.operation, rc.request.variables, REQUEST_MIN_COST);
      // The budget store out of reach: 503, except for a health read (an operator asking why).
      const fromStore = <T>(work: Promise<T>): Promise<T | undefined> =>
        work.catch((error) => {
          const outage = asOutage(error);
          if (!outage) throw error;
          if (isHealthRead(rc.operation)) return undefined;
          throw outage;
        });
      const { state, refusal } = await pipeline.charge(ctx.principal, cost, fromStore, true);
      if (state) ctx.budget = state;
      if (refusal) throw refusal;
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
