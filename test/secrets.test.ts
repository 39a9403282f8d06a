import { catalogue } from '../src/catalogue';
import { randomBytes } from 'node:crypto';
import { systemPrincipal } from '../src/auth/principal';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { ROOT_FIELDS_QUERY } from './support/schema-ops';
import { startTestGateway, type TestGateway } from './support/gateway';
import { createTestDatabase } from './support/database';

const SECRET = 'ghp_KNOWNSECRET_7f3a9c2e5b1d4068';
const OTHER_SECRET = 'lin_api_OTHERSECRET_0a1b2c3d4e5f';

describe('integration secrets', () => {
  let t: TestGateway;
  beforeAll(async () => {
    // debug logging and a 1 ms slow-query threshold: every statement and request is logged
    t = await startTestGateway({ LOG_LEVEL: 'debug', DB_SLOW_QUERY_MS: '1' });
  });
  afterAll(() => t.close());

  it('never returns a secret through GraphQL, never logs it, and stores only ciphertext', async () => {
    const responses: unknown[] = [];
    const send = async (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => {
      const res = await t.gql(query, variables, headers);
      responses.push(res.body);
      return res;
    };
    const created = await send(
      `mutation($c: JSONObject!) { createIntegration(input: { type: GITHUB, name: "gh", configuration: $c }) { id name hasCredentials credentialsHint } }`,
      { c: { token: SECRET, org: 'acme' } },
    );
    expect(created.body.errors).toBeUndefined();
    const integration = created.body.data.createIntegration;
    expect(integration).toMatchObject({ hasCredentials: true, credentialsHint: `org=••••, token=••••${SECRET.slice(-4)}` });

    // every path a secret can take: update, a refused update, a refused create, reads, a typo'd field
    await send(`mutation($id: UUID!, $c: JSONObject!) { updateIntegration(input: { id: $id, configuration: $c }) { id } }`, {
      id: integration.id,
      c: { token: OTHER_SECRET },
    });
    await send(`mutation($c: JSONObject!) { createIntegration(input: { type: GITHUB, name: "", configuration: $c }) { id } }`, {
      c: { token: SECRET },
    });
    await send(
      `mutation($id: UUID!, $c: JSONObject!) { updateIntegration(input: { id: $id, configuration: $c, rateLimitPerMinute: 0 }) { id } }`,
      {
        id: integration.id,
        c: { token: SECRET },
      },
    );
    await send(
      `mutation($c: JSONObject!) { createIntegration(input: { type: GITHUB, name: "gh", configuration: $c }) { id configuration } }`,
      { c: { token: SECRET } },
    );
    await send(`query($id: UUID!) { integration(id: $id) { id name hasCredentials credentialsHint status healthStatus } }`, {
      id: integration.id,
    });
    await send(`{ auditLog(first: 100) { nodes { changes } } }`);
    await send(ROOT_FIELDS_QUERY);
    // a token in a header must not be logged either, valid or not
    await send(`{ viewer { id } }`, undefined, { authorization: `Bearer tmg_${SECRET}` });

    const all = JSON.stringify(responses);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(OTHER_SECRET);
    expect(all).not.toContain('KNOWNSECRET');

    const logs = t.logs.join('');
    expect(t.logs.length).toBeGreaterThan(10); // the logs were captured
    expect(logs).toContain('graphql request');
    expect(logs).not.toContain('KNOWNSECRET');
    expect(logs).not.toContain('OTHERSECRET');
    expect(logs).not.toContain(t.adminToken);

    const rows = await t.db.query(`SELECT configuration, configuration::text AS raw, credentials_hint FROM external_integrations`);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.raw).not.toMatch(/SECRET/);
      expect(row.configuration).toMatchObject({ v: 1, alg: 'A256GCM', kid: 'test1' });
      expect(Object.keys(row.configuration).sort()).toEqual(['alg', 'ct', 'iv', 'kid', 'tag', 'v']);
    }
    expect(JSON.stringify(await t.db.query('SELECT * FROM audit_log'))).not.toMatch(/KNOWNSECRET|OTHERSECRET/);
  });

  it('has no schema field that could return a configuration', async () => {
    const res = await t.gql(`{ __type(name: "ExternalIntegration") { fields { name } } }`);
    expect(res.body.data.__type.fields.map((f: any) => f.name)).not.toContain('configuration');
  });

  it('reports an empty configuration as no credentials', async () => {
    const res = await t.gql(
      `mutation { createIntegration(input: { type: CUSTOM, name: "empty", configuration: {} }) { hasCredentials credentialsHint } }`,
    );
    expect(res.body.data.createIntegration).toEqual({ hasCredentials: false, credentialsHint: null });
  });
});

describe('key rotation', () => {
  const keyA = `a:${randomBytes(32).toString('base64')}`;
  const keyB = `b:${randomBytes(32).toString('base64')}`;

  it('keeps old rows readable under a new key, re-encrypts them with secrets:rotate, then works without the old key', async () => {
    const db = await createTestDatabase();
    try {
      const first = await startTestGateway({ SECRETS_KEYS: keyA }, { database: db });
      const created = await first.gql(
        `mutation { createIntegration(input: { type: LINEAR, name: "lin", configuration: { apiKey: "${OTHER_SECRET}" } }) { id } }`,
      );
      const id = created.body.data.createIntegration.id;
      await first.db.query(
        `INSERT INTO external_integrations (integration_type, integration_name, configuration) VALUES ('custom', 'legacy', '{"password": "plaintext-from-before"}')`,
      );
      await first.close();

      const env = { SECRETS_KEYS: `${keyB},${keyA}`, DATABASE_URL: db.url, NODE_ENV: 'test' };
      const second = await startTestGateway({ SECRETS_KEYS: env.SECRETS_KEYS }, { database: db });
      const read = await second.gql(`query($id: UUID!) { integration(id: $id) { hasCredentials } }`, { id });
      expect(read.body.data.integration.hasCredentials).toBe(true);
      await second.close();

      // what `npm run secrets:rotate` does, with the same configuration
      const config = loadConfig(env);
      const { createDataSource } = await import('../src/db/data-source');
      const ds = createDataSource(config.db, catalogue);
      await ds.initialize();
      try {
        const services = createServices(ds, config, createLogger({ logLevel: 'error', isProduction: false }));
        const scope = {
          requestId: 'rotate',
          logger: createLogger({ logLevel: 'error', isProduction: false }),
          principal: systemPrincipal('secrets:rotate'),
        };
        expect(await services.integrations.rotateSecrets(scope)).toEqual({ rotated: 2, checked: 2 });
        expect(await services.integrations.rotateSecrets(scope)).toEqual({ rotated: 0, checked: 2 });
      } finally {
        await ds.destroy();
      }
      const rows = await db.query(
        `SELECT integration_name, configuration->>'kid' AS kid, configuration::text AS raw, credentials_hint FROM external_integrations ORDER BY 1`,
      );
      expect(rows.map((r) => [r.integration_name, r.kid])).toEqual([
        ['legacy', 'b'],
        ['lin', 'b'],
      ]);
      expect(rows[0].raw).not.toContain('plaintext-from-before');
      expect(rows[0].credentials_hint).toBe('password=••••'); // never a suffix for a password
      expect(await db.query(`SELECT operation, actor_id FROM audit_log WHERE operation = 'rotateSecrets'`)).toHaveLength(2);

      const third = await startTestGateway({ SECRETS_KEYS: keyB }, { database: db });
      const after = await third.gql(
        `mutation($id: UUID!) { updateIntegration(input: { id: $id, name: "lin2" }) { name hasCredentials } }`,
        { id },
      );
      expect(after.body.data.updateIntegration).toEqual({ name: 'lin2', hasCredentials: true });
      await third.close();
    } finally {
      await db.drop();
    }
  });

  it('refuses keys that are not 32 bytes and an active key id that is not listed', () => {
    expect(() => loadConfig({ SECRETS_KEYS: `a:${Buffer.alloc(16).toString('base64')}` })).toThrow(
      /SECRETS_KEYS: key "a" must decode to 32 bytes/,
    );
    expect(() => loadConfig({ SECRETS_KEYS: keyA, SECRETS_ACTIVE_KEY_ID: 'z' })).toThrow(/SECRETS_ACTIVE_KEY_ID/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRETS_KEYS: is required in production/);
  });
});
