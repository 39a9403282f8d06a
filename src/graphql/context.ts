import type { Principal } from '../auth/principal';
import type { Logger } from '../logger';
import type { BudgetState } from '../security/rate-limiter';
import type { RequestScope } from '../request';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';

/** What every resolver receives. Request-scoped state lives here, never in module variables. */
export interface Context extends RequestScope {
  services: Services;
  loaders: Loaders;
  /** This request's cost and what is left of the token's budget (set before execution). */
  budget?: BudgetState;
}

export function createContext(services: Services, logger: Logger, requestId: string, principal: Principal, idempotencyKey?: string): Context {
  return { requestId, logger: logger.child({ requestId }), principal, idempotencyKey, services, loaders: createLoaders() };
}
