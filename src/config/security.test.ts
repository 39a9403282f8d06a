import { loadConfig } from '.';

const key = (b: number) => Buffer.alloc(32, b).toString('base64');

describe('security configuration', () => {
  it('has safe defaults: tokens required, runSql off, batching off, a development key only outside production', () => {
    const { security } = loadConfig({});
    expect(security.auth).toEqual({ anonymousRead: false, tokenCacheSeconds: 10, jwt: undefined });
    expect(security.runSql).toEqual({
      enabled: false,
      databaseUrl: undefined,
      statementTimeoutMs: 5000,
      rowLimit: 1000,
      cellBytes: 4096,
      answerBytes: 1_048_576,
      allowSuperuser: false,
      workMemKb: 16_384,
      tempFileLimitKb: 262_144,
    });
    expect(security.roles).toEqual({
      adminUser: undefined,
      adminPassword: undefined,
      ownerUser: 'taskmaster_owner',
      ownerPassword: undefined,
    });
    expect(security.limits).toMatchObject({ batching: false, store: 'postgres', maxCost: 10_000, budgetPerMinute: 100_000 });
    expect(security.secrets).toMatchObject({ activeKeyId: 'dev-insecure', insecureDevelopmentKey: true });
  });

  it('keeps runSql off superusers in production and wants a console role URL', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', SECRETS_KEYS: `k:${key(1)}`, RUN_SQL_ALLOW_SUPERUSER: 'true' })).toThrow(
      /RUN_SQL_ALLOW_SUPERUSER: cannot be on in production/,
    );
    expect(() => loadConfig({ RUN_SQL_DATABASE_URL: 'mysql://x' })).toThrow(/RUN_SQL_DATABASE_URL: expected postgres:\/\/<console role>/);
    expect(loadConfig({ RUN_SQL_DATABASE_URL: 'postgres://c:p@h/db' }).security.runSql.databaseUrl).toBe('postgres://c:p@h/db');
  });

  it('reads keys and picks the first as active unless told', () => {
    const { secrets } = loadConfig({ SECRETS_KEYS: `new:${key(1)}, old:${key(2)}` }).security;
    expect([...secrets.keys.keys()]).toEqual(['new', 'old']);
    expect(secrets.activeKeyId).toBe('new');
    expect(loadConfig({ SECRETS_KEYS: `new:${key(1)},old:${key(2)}`, SECRETS_ACTIVE_KEY_ID: 'old' }).security.secrets.activeKeyId).toBe(
      'old',
    );
    expect(() => loadConfig({ SECRETS_KEYS: `a:${key(1)},a:${key(2)}` })).toThrow(/listed twice/);
    expect(() => loadConfig({ SECRETS_KEYS: 'nocolon' })).toThrow(/id:base64key/);
  });

  it('names the variable for bad JWT and Redis settings', () => {
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: must be at least 32 bytes/);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32), JWT_JWKS_URL: 'https://idp/jwks' })).toThrow(/JWT_SECRET: set either/);
    expect(() => loadConfig({ JWT_JWKS_URL: 'ftp://idp' })).toThrow(/JWT_JWKS_URL/);
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'redis' })).toThrow(/REDIS_URL: is required/);
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).security.limits.store).toBe('redis');
    expect(loadConfig({ JWT_JWKS_URL: 'https://idp/jwks' }).security.auth.jwt).toMatchObject({
      jwksUrl: 'https://idp/jwks',
      roleClaim: 'role',
    });
  });
});
