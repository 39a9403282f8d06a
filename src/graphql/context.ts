import type { Principal } from '../auth/principal';
import type { Logger } from '../logger';
import type { RequestScope } from '../request';
import type { GatewayServices } from './features';
import { createLoaders, type Loaders } from './loaders';

/**
 * What every resolver receives. Request-scoped state lives here, never in module variables. Layers
 * above add their own by declaration merging (the security layer's `budget`: security/cost.plugin.ts).
 */
export interface Context extends RequestScope {
  services: GatewayServices;
  loaders: Loaders;
}

export function createContext(
  services: GatewayServices,
  logger: Logger,
  requestId: string,
  principal: Principal,
  idempotencyKey?: string,
  serverRequestId: string = requestId,
): Context {
  const ids = serverRequestId === requestId ? { requestId } : { requestId, serverRequestId };
  return { ...ids, serverRequestId, logger: logger.child(ids), principal, idempotencyKey, services, loaders: createLoaders() };
}
