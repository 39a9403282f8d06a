import { ConfigError, loadConfig } from './config';

const PROD = { NODE_ENV: 'production', SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` };

describe('loadConfig', () => {
  it('uses the embedded PostgreSQL when no database is configured', () => {
    const config = loadConfig({});
    expect(config.db.embedded).toEqual({ dataDir: '.data/postgres', port: 54329 });
    expect(config.db.runMigrations).toBe(true);
    expect(config.port).toBe(4000);
    expect(Object.isFrozen(config.db.pool)).toBe(true);
  });

  it('uses DATABASE_URL or DB_HOST when given', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/x' }).db).toMatchObject({ url: 'postgres://u:p@db:5432/x', embedded: undefined });
    expect(loadConfig({ DB_HOST: 'db', DB_PORT: '6543', DB_NAME: 'tm', DB_USER: 'me', DB_PASSWORD: 's' }).db).toMatchObject({
      host: 'db',
      port: 6543,
      name: 'tm',
      user: 'me',
      password: 's',
      embedded: undefined,
    });
  });

  it('does not run migrations by default in production against a configured database', () => {
    expect(loadConfig({ ...PROD, DATABASE_URL: 'postgres://db/x' }).db.runMigrations).toBe(false);
    expect(loadConfig({ ...PROD, DATABASE_URL: 'postgres://db/x', DB_RUN_MIGRATIONS: 'true' }).db.runMigrations).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DB_POOL_MAX: '0' }, 'DB_POOL_MAX'],
    [{ DB_POOL_MIN: '20', DB_POOL_MAX: '10' }, 'DB_POOL_MIN'],
    [{ DB_SSL_MODE: 'sometimes' }, 'DB_SSL_MODE'],
    [{ DB_SSL_MODE: 'verify-full' }, 'DB_SSL_CA_FILE'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ GRAPHQL_INTROSPECTION: 'maybe' }, 'GRAPHQL_INTROSPECTION'],
  ])('fails fast on %j, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});
