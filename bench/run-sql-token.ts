import type { DataSource } from 'typeorm';
import { systemPrincipal } from '../src/auth/principal';
import type { Role } from '../src/auth/roles';
import { TokenService } from '../src/tokens/token.service';
import { createLogger } from '../src/logger';

/** An admin token for a benchmark run, issued as `npm run token:create` does. */
export async function createApiTokenForBench(db: DataSource): Promise<string> {
  const tokens = new TokenService(db, 0);
  const scope = {
    requestId: 'bench',
    logger: createLogger({ logLevel: 'error', isProduction: false }),
    principal: systemPrincipal('bench'),
  };
  const { token } = await tokens.issue(scope, { name: `bench-runsql-${Date.now()}`, role: 'admin' as Role }, 'token:create');
  return token;
}
