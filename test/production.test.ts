import { loadConfig } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { startTestGateway, type TestGateway } from './support/gateway';

describe('production mode', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ NODE_ENV: 'production', DB_RUN_MIGRATIONS: 'true', LOG_LEVEL: 'info' });
  });
  afterAll(() => t.close());

  it('masks an unexpected resolver error for the client and logs it in full under the error id', async () => {
    const { id } = (await t.gql(`mutation { createTask(input: { title: "before the break" }) { id } }`)).body.data.createTask;
    await t.db.query('ALTER TABLE tasks RENAME COLUMN title TO title_renamed');
    try {
      const res = await t.gql(`query($id: UUID!) { task(id: $id) { id title } }`, { id });
      const error = res.body.errors?.[0];
      expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      const errorId = error?.extensions?.errorId;
      expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(error?.message).toBe(`Internal server error (error id ${errorId})`);
      const text = JSON.stringify(res.body);
      expect(text).not.toMatch(/title_renamed|does not exist|SELECT|QueryFailedError|stack|\.ts:/i);

      const line = t.logs.find((l) => l.includes(errorId));
      expect(line).toBeDefined();
      const entry = JSON.parse(line as string); // production logs are JSON lines
      expect(entry).toMatchObject({ level: 'error', errorId });
      expect(entry.error.message).toMatch(/column .*title.* does not exist/);
      expect(entry.error.stack).toMatch(/QueryFailedError/);
      expect(entry.error.query).toMatch(/SELECT/);
    } finally {
      await t.db.query('ALTER TABLE tasks RENAME COLUMN title_renamed TO title');
    }
  });

  it('turns introspection off', async () => {
    const res = await t.gql(`{ __schema { types { name } } }`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0].message).toMatch(/introspection/i);
  });

  it('sends security headers', async () => {
    const res = await fetch(`${t.baseUrl}/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('prevents CSRF: a GET without a preflight header is refused', async () => {
    const res = await fetch(`${t.baseUrl}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].message).toMatch(/CSRF/);
  });

  it('requires a token for every operation', async () => {
    const res = await t.gql(`{ __typename }`, undefined, { authorization: '' });
    expect(res.status).toBe(401);
  });
});

describe('DB_SSL_MODE', () => {
  it('honours require (encrypted, certificate unchecked) and verify-full with a CA file', () => {
    expect(dataSourceOptions(loadConfig({ DATABASE_URL: 'postgres://db/x', DB_SSL_MODE: 'require' }).db, catalogue).ssl).toEqual({
      rejectUnauthorized: false,
    });
    expect(dataSourceOptions(loadConfig({ DATABASE_URL: 'postgres://db/x' }).db, catalogue).ssl).toBe(false);
    const full = dataSourceOptions(
      loadConfig({ DATABASE_URL: 'postgres://db/x', DB_SSL_MODE: 'verify-full', DB_SSL_CA_FILE: __filename }).db,
      catalogue,
    ).ssl as any;
    expect(full).toMatchObject({ rejectUnauthorized: true });
    expect(full.ca).toContain('DB_SSL_MODE');
    expect(full.checkServerIdentity).toBeUndefined();
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/x', DB_SSL_MODE: 'verify-full' })).toThrow(/DB_SSL_CA_FILE/);
  });
});
