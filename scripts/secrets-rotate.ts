/**
 * `npm run secrets:rotate`: re-encrypts every integration configuration under the active key
 * (SECRETS_ACTIVE_KEY_ID, else the first of SECRETS_KEYS), and encrypts any stored in plaintext.
 * Keep the old key listed in SECRETS_KEYS until this has run; then it can be removed.
 */
import 'reflect-metadata';
import { systemPrincipal } from '../src/auth/principal';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { catalogue } from '../src/catalogue';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config);
  const database = await openDatabase(config.db, catalogue, logger);
  try {
    const services = createServices(database.dataSource, config, logger);
    const { rotated, checked } = await services.integrations.rotateSecrets({
      requestId: 'secrets:rotate',
      logger,
      principal: systemPrincipal('secrets:rotate'),
    });
    console.log(
      `secrets:rotate: ${rotated} of ${checked} integration configurations re-encrypted under key "${config.security.secrets.activeKeyId}"`,
    );
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  console.error('secrets:rotate failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
