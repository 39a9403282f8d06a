import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../src/config';
import { startTestGateway, TEST_SECRETS_KEYS, type TestGateway } from './support/gateway';

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('GraphQL IDE, enabled (the default outside production)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());

  it.each(['/graphql', '/graphiql', '/playground'])('serves the page at %s to a browser, under a self-only CSP', async (path) => {
    const res = await fetch(`${t.baseUrl}${path}`, { headers: { accept: HTML } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none';script-src 'self';style-src 'self' 'unsafe-inline';font-src 'self' data:;img-src 'self' data:;" +
        "connect-src 'self';base-uri 'none';form-action 'none';frame-ancestors 'none'",
    );
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain('<script src="/graphiql/assets/graphiql.min.js"></script>');
    // Nothing on the page points anywhere but this origin, and no script is inline.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html.match(/<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")/g)).toBeNull();
    expect(html).toContain('"endpoint":"/graphql"');
  });

  it('leaves GraphQL clients to Apollo at /graphql', async () => {
    const json = await fetch(`${t.baseUrl}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true', authorization: `Bearer ${t.adminToken}` },
    });
    expect((await json.json()).data).toEqual({ __typename: 'Query' });
    // A browser-like GET that carries a query is an operation, not a page request.
    const withQuery = await fetch(`${t.baseUrl}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: HTML, 'apollo-require-preflight': 'true', authorization: `Bearer ${t.adminToken}` },
    });
    expect(withQuery.headers.get('content-type')).not.toMatch(/^text\/html/);
    const post = await t.gql('{ __typename }', undefined, { accept: HTML });
    expect(post.body.data).toEqual({ __typename: 'Query' });
    expect(post.body.errors).toBeUndefined();
  });

  it('serves the bundles from the installed packages, and nothing else under /graphiql/assets', async () => {
    const js = await fetch(`${t.baseUrl}/graphiql/assets/graphiql.min.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toBe(readFileSync(join(dirname(require.resolve('graphiql/package.json')), 'graphiql.min.js'), 'utf8'));
    for (const name of [
      'react.production.min.js',
      'react-dom.production.min.js',
      'graphiql.min.css',
      'index.umd.js.map',
      'ide.js',
      'ide.css',
    ]) {
      const res = await fetch(`${t.baseUrl}/graphiql/assets/${name}`);
      // read to the end: an unread 4 MB source map holds its response open, and the gateway's stop waits for it
      await res.arrayBuffer();
      expect([name, res.status]).toEqual([name, 200]);
    }
    for (const name of ['package.json', '..%2F..%2Fpackage.json', '%2e%2e%2fpackage.json', 'graphiql.js']) {
      const res = await fetch(`${t.baseUrl}/graphiql/assets/${name}`);
      expect([name, res.status]).toEqual([name, 404]);
    }
  });
});

describe('GraphQL IDE in production', () => {
  it('is off unless GRAPHQL_IDE=true', async () => {
    const off = await startTestGateway({ NODE_ENV: 'production', SECRETS_KEYS: TEST_SECRETS_KEYS, DB_RUN_MIGRATIONS: 'true' });
    try {
      for (const path of ['/graphiql', '/playground', '/graphiql/assets/graphiql.min.js']) {
        expect([path, (await fetch(`${off.baseUrl}${path}`, { headers: { accept: HTML } })).status]).toEqual([path, 404]);
      }
      const graphql = await fetch(`${off.baseUrl}/graphql`, { headers: { accept: HTML } });
      expect(graphql.headers.get('content-type')).not.toMatch(/^text\/html/);
    } finally {
      await off.close();
    }
    const on = await startTestGateway({
      NODE_ENV: 'production',
      SECRETS_KEYS: TEST_SECRETS_KEYS,
      DB_RUN_MIGRATIONS: 'true',
      GRAPHQL_IDE: 'true',
    });
    try {
      const page = await fetch(`${on.baseUrl}/graphiql`, { headers: { accept: HTML } });
      expect(page.status).toBe(200);
    } finally {
      await on.close();
    }
  });

  it('reads GRAPHQL_IDE as a boolean and names it when wrong', () => {
    expect(loadConfig({ NODE_ENV: 'production', SECRETS_KEYS: TEST_SECRETS_KEYS }).ide.enabled).toBe(false);
    expect(loadConfig({}).ide.enabled).toBe(true);
    expect(loadConfig({ GRAPHQL_IDE: 'false' }).ide.enabled).toBe(false);
    expect(() => loadConfig({ GRAPHQL_IDE: 'maybe' })).toThrow('GRAPHQL_IDE: expected true or false, got "maybe"');
  });
});
