import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { initDatabase } from '../../scripts/db-init';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from './database';

/** A test database set up by `npm run db:init`'s code, with roles of its own (roles are cluster-wide). */
export interface RoledDatabase {
  db: TestDatabase;
  roles: { owner: string; runtime: string; console: string };
  /** The gateway's connection, as the runtime role. */
  runtimeUrl: string;
  /** runSql's connection, as the console role. */
  consoleUrl: string;
  /** Drops the database, then the roles. */
  drop(): Promise<void>;
}

export async function createRoledDatabase(): Promise<RoledDatabase> {
  const db = await createTestDatabase();
  const tag = randomBytes(4).toString('hex');
  const roles = { owner: `tm_${tag}_owner`, runtime: `tm_${tag}_app`, console: `tm_${tag}_console` };
  const admin = new URL(db.url);
  const as = (user: string) => Object.assign(new URL(db.url), { username: user, password: `pw-${tag}` }).toString();
  const runtimeUrl = as(roles.runtime);
  const consoleUrl = as(roles.console);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: runtimeUrl,
    DB_ADMIN_USER: decodeURIComponent(admin.username),
    DB_ADMIN_PASSWORD: decodeURIComponent(admin.password),
    DB_OWNER_USER: roles.owner,
    RUN_SQL_DATABASE_URL: consoleUrl,
  });
  await initDatabase(config, createLogger({ logLevel: 'error', isProduction: false }));
  return {
    db,
    roles,
    runtimeUrl,
    consoleUrl,
    async drop() {
      await db.drop();
      const client = new Client({ connectionString: process.env.TEST_ADMIN_DATABASE_URL });
      await client.connect();
      try {
        for (const role of Object.values(roles)) await client.query(`DROP ROLE IF EXISTS "${role}"`);
      } finally {
        await client.end();
      }
    },
  };
}
