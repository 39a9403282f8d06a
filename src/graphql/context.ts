import type { Logger } from '../logger';
import type { RequestScope } from '../request';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';

/** What every resolver receives. Request-scoped state lives here, never in module variables. */
export interface Context extends RequestScope {
  services: Services;
  loaders: Loaders;
}

export function createContext(services: Services, logger: Logger, requestId: string): Context {
  return { requestId, logger: logger.child({ requestId }), services, loaders: createLoaders(services) };
}
