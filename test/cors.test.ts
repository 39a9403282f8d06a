import { loadConfig } from '../src/config';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * CORS_ALLOWED_ORIGINS: a dashboard served from another origin calls /graphql with its token;
 * pages of any other origin get no Access-Control-Allow-* header, so their browsers read nothing.
 */
const DASHBOARD = 'https://dashboard.example.com';
const OTHER = 'https://evil.example';

describe('CORS', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ CORS_ALLOWED_ORIGINS: `${DASHBOARD}, http://localhost:5173/` });
  });
  afterAll(() => t.close());

  const preflight = (origin: string) =>
    fetch(`${t.baseUrl}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,idempotency-key,x-request-id',
      },
    });

  it('answers a preflight from an allowed origin with the methods and the headers a dashboard sends', async () => {
    for (const origin of [DASHBOARD, 'http://localhost:5173']) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST');
      const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'x-request-id']));
      expect(res.headers.get('access-control-max-age')).toBe('600');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull(); // bearer tokens, never cookies
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    }
  });

  it('gives other origins nothing: no Access-Control-Allow-* header on the preflight or the answer', async () => {
    for (const origin of [OTHER, `${DASHBOARD}.evil.example`, 'null', 'http://dashboard.example.com']) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect([...res.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
      const answer = await t.gql(`{ __typename }`, undefined, { origin });
      expect(answer.status).toBe(200);
      expect([...answer.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
      expect(answer.headers.get('vary')).toMatch(/\bOrigin\b/);
    }
  });

  it('puts the origin on the answers to an allowed origin, errors included, with Vary: Origin', async () => {
    const ok = await t.gql(`mutation { createTask(input: { title: "from the dashboard" }) { id } }`, undefined, {
      origin: DASHBOARD,
      'idempotency-key': 'cors-create-1',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.errors).toBeUndefined();
    expect(ok.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/);
    expect(ok.headers.get('vary')).toMatch(/\bOrigin\b/);
    // A dashboard reads why it was refused, too.
    const refused = await t.gql(`{ viewer { id } }`, undefined, { origin: DASHBOARD, authorization: '' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
  });

  it('keeps the CSRF guard: a cross-origin GET without a preflight-forcing header is still refused', async () => {
    const res = await fetch(`${t.baseUrl}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { origin: DASHBOARD, authorization: `Bearer ${t.adminToken}` },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF|preflight/i);
  });
});

describe('CORS when CORS_ALLOWED_ORIGINS is unset (the default)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());

  it('answers no origin', async () => {
    const res = await fetch(`${t.baseUrl}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: DASHBOARD, 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a value that is not an origin at start-up', () => {
    expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: 'https://dashboard.example.com/app' })).toThrow(/CORS_ALLOWED_ORIGINS.*without a path/);
    expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: 'dashboard' })).toThrow(/CORS_ALLOWED_ORIGINS.*not an origin/);
  });
});
