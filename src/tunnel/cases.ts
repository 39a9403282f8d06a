/**
 * Settings a tunnel config can be given, each with what the generator must answer: `valid` (a file
 * cloudflared accepts with `OK`) or the rule that refuses it. `src/tunnel/cases.test.ts` checks the
 * generator against every case; `npm run tunnel:verify` (scripts/tunnel-verify.ts) runs a real
 * cloudflared's `ingress validate` on every file the generator accepts.
 */
import type { Env } from '../config';
import type { RuleId } from './issues';

export const CASE_TUNNEL_ID = '6ff42ae2-765d-4adf-8112-31c55c1551ef';

export const CASE_BASE_ENV: Env = {
  HOST: '0.0.0.0',
  PORT: '4000',
  DB_HOST: '127.0.0.1',
  DB_PORT: '5432',
  CLOUDFLARE_ENABLED: 'true',
  CLOUDFLARE_TUNNEL_ID: CASE_TUNNEL_ID,
  CLOUDFLARE_CREDENTIALS_FILE: `/etc/cloudflared/${CASE_TUNNEL_ID}.json`,
  CLOUDFLARE_DOMAIN: 'example.com',
  CLOUDFLARE_SUBDOMAIN: 'graphql',
};

export interface TunnelCase {
  name: string;
  /** Variables on top of CASE_BASE_ENV. */
  env: Env;
  expect: 'valid' | RuleId;
}

const http = 'http://127.0.0.1:4000';
/** One extra ingress rule (CLOUDFLARE_EXTRA_INGRESS) on a host of its own. */
const extra = (rule: Record<string, unknown>): Env => ({
  CLOUDFLARE_EXTRA_INGRESS: JSON.stringify([{ hostname: 'x.example.com', service: http, ...rule }]),
});
const rules = (...list: Record<string, unknown>[]): Env => ({ CLOUDFLARE_EXTRA_INGRESS: JSON.stringify(list) });
const path = (p: string, expect: TunnelCase['expect']): TunnelCase => ({
  name: `path ${JSON.stringify(p).slice(0, 40)}`,
  env: extra({ path: p }),
  expect,
});
const origin = (
  originRequest: Record<string, unknown>,
  expect: TunnelCase['expect'],
  name = JSON.stringify(originRequest).slice(0, 60),
): TunnelCase => ({
  name: `originRequest ${name}`,
  env: extra({ originRequest }),
  expect,
});

export const TUNNEL_CASES: TunnelCase[] = [
  // Files cloudflared accepts.
  { name: 'GraphQL rule and http_status:404', env: {}, expect: 'valid' },
  { name: 'GraphQL rule, TCP database rule, http_status:404', env: { CLOUDFLARE_EXPOSE_DB: 'true' }, expect: 'valid' },
  { name: 'a status host for /health', env: rules({ hostname: 'status.example.com', path: '^/health$', service: http }), expect: 'valid' },
  path('^/a(?i)bc', 'valid'),
  path('^/\\p{Greek}+$', 'valid'),
  path('^/(?P<v>v[0-9]+)/', 'valid'),
  path('^/[[:alpha:]]+\\z', 'valid'),
  { name: 'an origin host with _ (Docker: http://gateway_1:4000)', env: { CLOUDFLARE_ORIGIN_HOST: 'gateway_1' }, expect: 'valid' },
  { name: 'an extra rule to http://gateway_1:4000', env: extra({ service: 'http://gateway_1:4000' }), expect: 'valid' },
  origin({ connectTimeout: '2562047h47m16.854775807s' }, 'valid', "connectTimeout Go's maximum"),
  origin({ keepAliveConnections: 100, httpHostHeader: 'internal.example.com' }, 'valid'),
  origin(
    {
      ipRules: [
        { prefix: '10.0.0.0/8', ports: [80, 443], allow: true },
        { prefix: '::/0', allow: false },
      ],
    },
    'valid',
  ),
  origin({ access: { required: true, teamName: 'acme', audTag: ['aud1'] } }, 'valid'),
  {
    name: 'distinct paths on one host',
    env: rules({ hostname: 'x.example.com', path: '^/a', service: http }, { hostname: 'x.example.com', path: '^/b', service: http }),
    expect: 'valid',
  },

  // Path regexes JavaScript takes and Go's RE2 refuses.
  path('^/\\C', 'path-regex'),
  path('^/a\\Z', 'path-regex'),
  path('^/\\e', 'path-regex'),
  path('^/\\u0041', 'path-regex'),
  path('^/\\cA', 'path-regex'),
  path('^/[a-\\d]', 'path-regex'),
  path('^/[]', 'path-regex'),
  path('^/[^]', 'path-regex'),
  path('^/((a{1000}){1000}){1000}', 'path-regex'),
  { name: 'path with 1,001 nested groups', env: extra({ path: `^/${'('.repeat(1001)}a${')'.repeat(1001)}` }), expect: 'path-regex' },
  path('^/a{1001}', 'path-regex'),
  path('^/a(?=b)', 'path-regex'),
  path('^/(a)\\1', 'path-regex'),

  // Strings go-yaml refuses ("control characters are not allowed") or headers no origin should get.
  origin({ httpHostHeader: 'a\u007fb' }, 'yaml-characters', 'httpHostHeader with DEL'),
  path('^/a\ufffe', 'yaml-characters'),
  path('^/a\uffff', 'yaml-characters'),
  path('^/a\ud800', 'yaml-characters'),
  origin({ httpHostHeader: 'a\r\nX-Injected: 1' }, 'yaml-characters', 'httpHostHeader with CR/LF'),
  origin({ httpHostHeader: 'a\u0000b' }, 'yaml-characters', 'httpHostHeader with NUL'),
  origin({ originServerName: 'a\u0085b' }, 'yaml-characters', 'originServerName with a C1 control'),
  origin({ httpHostHeader: 'a\tb' }, 'yaml-characters', 'httpHostHeader with a tab'),

  // Numbers and durations outside Go's ranges.
  origin({ keepAliveConnections: 1e20 }, 'integer-range', 'keepAliveConnections 1e20'),
  origin({ keepAliveConnections: 2 ** 63 }, 'integer-range', 'keepAliveConnections 2^63'),
  origin({ connectTimeout: '2562047h47m16.854775808s' }, 'duration', "connectTimeout 1ns over Go's maximum"),
  origin({ connectTimeout: '0.1ns' }, 'duration-positive', 'connectTimeout 0.1ns (rounds to zero)'),
  origin({ connectTimeout: 30 }, 'duration', 'connectTimeout 30 (no unit)'),
  origin({ connectTimeout: '-5s' }, 'duration-positive', 'connectTimeout -5s'),

  // Keys and values inside access and ipRules.
  origin({ access: { required: false, teamname: 'acme' } }, 'access-unknown-key', 'access with a misspelled key'),
  origin({ ipRules: [{ prefix: '10.0.0.0/33' }] }, 'ip-rule', 'ipRules /33'),
  origin({ ipRules: [{ prefix: '::/129' }] }, 'ip-rule', 'ipRules v6 /129'),
  origin({ ipRules: [{ prefix: '10.0.0.0/8', ports: [70000] }] }, 'ip-rule', 'ipRules port 70000'),
  origin({ ipRules: [{ prefix: '10.0.0.0/8', port: [80] }] }, 'ip-rule', 'ipRules misspelled key'),

  // Rules made dead by an earlier one.
  {
    name: 'path-only rule, then a host with that path',
    env: rules({ path: '^/api', service: http }, { hostname: 'x.example.com', path: '^/api', service: http }),
    expect: 'rule-shadowed',
  },
  {
    name: '* with a path, then a host with that path',
    env: rules({ hostname: '*', path: '^/api', service: http }, { hostname: 'x.example.com', path: '^/api', service: http }),
    expect: 'rule-shadowed',
  },
  {
    name: 'wildcard with a path, then a subdomain with that path',
    env: rules({ hostname: '*.example.com', path: '^/api', service: http }, { hostname: 'x.example.com', path: '^/api', service: http }),
    expect: 'rule-shadowed',
  },
  {
    name: 'wildcard, then a subdomain',
    env: rules({ hostname: '*.example.com', service: http }, { hostname: 'x.example.com', service: http }),
    expect: 'rule-shadowed',
  },
  { name: 'the GraphQL host again', env: rules({ hostname: 'graphql.example.com', service: http }), expect: 'hostname-duplicate' },

  // Hostnames and services (RULES in validate.ts).
  { name: 'catch-all first', env: rules({ service: http }), expect: 'catch-all-not-last' },
  { name: 'hostname with a port', env: rules({ hostname: 'x.example.com:443', service: http }), expect: 'hostname-port' },
  { name: 'hostname with a scheme', env: rules({ hostname: 'https://x.example.com', service: http }), expect: 'hostname-port' },
  { name: 'wildcard inside', env: rules({ hostname: 'api.*.example.com', service: http }), expect: 'hostname-wildcard' },
  { name: 'service without a scheme', env: extra({ service: 'localhost:4000' }), expect: 'service-address' },
  { name: 'service with a trailing /', env: extra({ service: 'http://127.0.0.1:4000/' }), expect: 'service-path' },
  { name: 'tcp:// without a port', env: extra({ service: 'tcp://127.0.0.1' }), expect: 'service-tcp-port' },
  { name: 'postgresql:// service', env: extra({ service: 'postgresql://localhost:5432' }), expect: 'service-scheme' },
];
