/**
 * `npm run token:create -- --role admin --name first-admin [--expires-in-days 90]`: issues an API
 * token on the configured database and prints it once (to stdout; nothing else goes there).
 * This is how the first admin token is made; later ones can be made with createApiToken.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { systemPrincipal } from '../src/auth/principal';
import { isRole, ROLES } from '../src/auth/roles';
import { TokenService } from '../src/tokens/token.service';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { catalogue } from '../src/catalogue';
import { createLogger } from '../src/logger';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { role: { type: 'string' }, name: { type: 'string' }, 'expires-in-days': { type: 'string' } },
    strict: true,
  });
  if (!isRole(values.role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const name = values.name?.trim();
  if (!name || name.length > 100) throw new Error('--name is required (1 to 100 characters), e.g. --name first-admin');
  const days = values['expires-in-days'] === undefined ? undefined : Number(values['expires-in-days']);
  if (days !== undefined && !(Number.isInteger(days) && days > 0)) throw new Error('--expires-in-days must be a whole number above 0');

  const config = loadConfig();
  // Progress to stderr: stdout carries only the token, so `TOKEN=$(npm run -s token:create ...)` works.
  const logger = createLogger({ ...config, logLevel: 'warn' }, { stderr: true });
  const database = await openDatabase(config.db, catalogue, logger);
  try {
    const tokens = new TokenService(database.dataSource);
    const { token, apiToken } = await tokens.issue(
      { requestId: 'token:create', logger, principal: systemPrincipal('token:create') },
      { name, role: values.role, expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null },
      'token:create',
    );
    console.error(
      `Issued ${apiToken.role} token "${apiToken.name}" (id ${apiToken.id}${apiToken.expiresAt ? `, expires ${apiToken.expiresAt.toISOString()}` : ''}).`,
    );
    console.error('It is shown only now; send it as: Authorization: Bearer <token>');
    console.log(token);
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  console.error('token:create failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
