import { ConfigError, loadConfig, VARIABLES } from '.';
import type { Variable } from './variable';

const PROD = { NODE_ENV: 'production', SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` };

describe('loadConfig', () => {
  it('uses the embedded PostgreSQL when no database is configured', () => {
    const config = loadConfig({});
    expect(config.db.embedded).toEqual({ dataDir: '.data/postgres', port: 54329, replicas: 0 });
    expect(config.db.runMigrations).toBe(true);
    expect(config.port).toBe(4000);
    expect(Object.isFrozen(config.db.pool)).toBe(true);
  });

  it('uses DATABASE_URL or DB_HOST when given', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/x' }).db).toMatchObject({
      url: 'postgres://u:p@db:5432/x',
      embedded: undefined,
    });
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
    [{ GRAPHQL_BODY_LIMIT_BYTES: '2000000', HTTP_BODY_BYTES_IN_FLIGHT: '1000000' }, 'HTTP_BODY_BYTES_IN_FLIGHT'],
    [{ HTTP_HEADERS_TIMEOUT_SECONDS: '0' }, 'HTTP_HEADERS_TIMEOUT_SECONDS'],
  ])('fails fast on %j, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});

describe('the definitions table (src/config/variables.ts)', () => {
  /** Every name loadConfig asks the environment for, in several situations so conditional reads happen too. */
  function namesRead(): Set<string> {
    const found = new Set<string>();
    const situations = [
      {},
      { NODE_ENV: 'production', DB_HOST: 'db.internal', DB_PASSWORD: 'x', SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` },
      {
        DATABASE_URL: 'postgres://u@h/d',
        CLOUDFLARE_ENABLED: 'true',
        CLOUDFLARE_TUNNEL_ID: '6ff42ae2-765d-4adf-8112-31c55c1551ef',
        CLOUDFLARE_DOMAIN: 'example.com',
      },
      { JWT_JWKS_URL: 'https://idp.example.com/jwks' },
    ];
    for (const situation of situations) {
      const env = new Proxy(situation as Record<string, string>, {
        get(target, key) {
          if (typeof key === 'string') found.add(key);
          return target[key as string];
        },
      });
      loadConfig(env);
    }
    return found;
  }

  it('defines exactly the variables loadConfig reads', () => {
    expect([...namesRead()].sort()).toEqual(Object.keys(VARIABLES).sort());
  });

  it('gives every integer default within its bounds and every enum default among its values', () => {
    for (const [name, v] of Object.entries(VARIABLES) as [string, Variable][]) {
      if (v.kind === 'integer' && typeof v.default === 'number')
        expect([name, v.min <= v.default && v.default <= v.max]).toEqual([name, true]);
      if (v.kind === 'enum' && typeof v.default === 'string') expect([name, v.values.includes(v.default)]).toEqual([name, true]);
    }
  });
});
