import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, reader, tunnelConfig as parse, type EnabledTunnelConfig, type Env } from '.';

const tunnelConfig = (env: Env) => parse(reader(env));

const ID = '6ff42ae2-765d-4adf-8112-31c55c1551ef';
const ENABLED: Env = { CLOUDFLARE_ENABLED: 'true', CLOUDFLARE_TUNNEL_ID: ID, CLOUDFLARE_DOMAIN: 'example.com' };

function enabled(env: Env = {}): EnabledTunnelConfig {
  const config = tunnelConfig({ ...ENABLED, ...env });
  if (!config.enabled) throw new Error('expected an enabled tunnel');
  return config;
}

/** The variable a ConfigError names, and its message. */
function configError(env: Env): { variable: string; message: string } {
  try {
    tunnelConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return { variable: error.variable, message: error.message };
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('tunnelConfig (environment -> TunnelConfig)', () => {
  it('is off by default and then asks for nothing', () => {
    expect(tunnelConfig({})).toEqual({ enabled: false, configFile: resolve('.data/cloudflared/config.yml') });
  });

  it('has the defaults of the original design and of the cloudflared rules', () => {
    expect(enabled()).toEqual({
      enabled: true,
      tunnelId: ID,
      credentialsFile: join(homedir(), '.cloudflared', `${ID}.json`),
      configFile: resolve('.data/cloudflared/config.yml'),
      domain: 'example.com',
      subdomain: 'db-api',
      originHost: undefined,
      originRequest: { connectTimeout: '30s', tlsTimeout: '10s', keepAliveTimeout: '1m30s' },
      database: { expose: false, subdomain: 'db', connectTimeout: '10s', tcpKeepAlive: '30s' },
      metrics: '127.0.0.1:20241',
      extraIngress: [],
    });
  });

  it('reads every variable', () => {
    expect(
      enabled({
        CLOUDFLARE_TUNNEL_ID: ID.toUpperCase(),
        CLOUDFLARE_CREDENTIALS_FILE: '/etc/cloudflared/creds.json',
        CLOUDFLARE_CONFIG_FILE: 'run/cloudflared.yml',
        CLOUDFLARE_DOMAIN: 'Example.COM',
        CLOUDFLARE_SUBDOMAIN: 'GraphQL',
        CLOUDFLARE_ORIGIN_HOST: 'gateway',
        CLOUDFLARE_CONNECT_TIMEOUT: '5s',
        CLOUDFLARE_TLS_TIMEOUT: '2.5s',
        CLOUDFLARE_KEEPALIVE_TIMEOUT: '90s',
        CLOUDFLARE_EXPOSE_DB: 'yes',
        CLOUDFLARE_DB_SUBDOMAIN: 'pg',
        CLOUDFLARE_DB_CONNECT_TIMEOUT: '3s',
        CLOUDFLARE_DB_TCP_KEEPALIVE: '1m',
        CLOUDFLARE_METRICS: '0.0.0.0:2000',
        CLOUDFLARE_EXTRA_INGRESS: '[{"hostname":"status.example.com","path":"^/health$","service":"http://127.0.0.1:4000"}]',
      }),
    ).toEqual({
      enabled: true,
      tunnelId: ID,
      credentialsFile: '/etc/cloudflared/creds.json',
      configFile: resolve('run/cloudflared.yml'),
      domain: 'example.com',
      subdomain: 'graphql',
      originHost: 'gateway',
      originRequest: { connectTimeout: '5s', tlsTimeout: '2.5s', keepAliveTimeout: '90s' },
      database: { expose: true, subdomain: 'pg', connectTimeout: '3s', tcpKeepAlive: '1m' },
      metrics: '0.0.0.0:2000',
      extraIngress: [{ hostname: 'status.example.com', path: '^/health$', service: 'http://127.0.0.1:4000' }],
    });
  });

  it('turns metrics off with CLOUDFLARE_METRICS=off', () => {
    expect(enabled({ CLOUDFLARE_METRICS: 'off' }).metrics).toBeUndefined();
  });

  it.each([
    // the misconfigurations the issue names
    [{ CLOUDFLARE_TUNNEL_ID: undefined }, 'CLOUDFLARE_TUNNEL_ID', /is required when CLOUDFLARE_ENABLED=true/],
    [{ CLOUDFLARE_DOMAIN: 'https://example.com' }, 'CLOUDFLARE_DOMAIN', /without a scheme/],
    [{ CLOUDFLARE_SUBDOMAIN: 'graphql:443' }, 'CLOUDFLARE_SUBDOMAIN', /without a port/],
    [{ CLOUDFLARE_CONNECT_TIMEOUT: '30' }, 'CLOUDFLARE_CONNECT_TIMEOUT', /a number needs a unit: "30s"/],
    // and the rest
    [{ CLOUDFLARE_ENABLED: 'maybe' }, 'CLOUDFLARE_ENABLED', /true or false/],
    [{ CLOUDFLARE_TUNNEL_ID: 'my-tunnel' }, 'CLOUDFLARE_TUNNEL_ID', /UUID/],
    [{ CLOUDFLARE_DOMAIN: undefined }, 'CLOUDFLARE_DOMAIN', /is required/],
    [{ CLOUDFLARE_DOMAIN: 'example.com:443' }, 'CLOUDFLARE_DOMAIN', /without a port/],
    [{ CLOUDFLARE_DOMAIN: 'example.com/graphql' }, 'CLOUDFLARE_DOMAIN', /without a path/],
    [{ CLOUDFLARE_DOMAIN: '*.example.com' }, 'CLOUDFLARE_DOMAIN', /wildcard/],
    [{ CLOUDFLARE_DOMAIN: 'example.com.' }, 'CLOUDFLARE_DOMAIN', /trailing dot/],
    [{ CLOUDFLARE_DOMAIN: 'localhost' }, 'CLOUDFLARE_DOMAIN', /at least two labels/],
    [{ CLOUDFLARE_DOMAIN: 'exa_mple.com' }, 'CLOUDFLARE_DOMAIN', /DNS name/],
    [{ CLOUDFLARE_SUBDOMAIN: 'https://graphql' }, 'CLOUDFLARE_SUBDOMAIN', /without a scheme/],
    [{ CLOUDFLARE_SUBDOMAIN: 'api.staging' }, 'CLOUDFLARE_SUBDOMAIN', /one DNS label/],
    [{ CLOUDFLARE_SUBDOMAIN: '-api' }, 'CLOUDFLARE_SUBDOMAIN', /one DNS label/],
    [{ CLOUDFLARE_DB_SUBDOMAIN: 'db:5432' }, 'CLOUDFLARE_DB_SUBDOMAIN', /without a port/],
    [
      { CLOUDFLARE_EXPOSE_DB: 'true', CLOUDFLARE_DB_SUBDOMAIN: 'db-api' },
      'CLOUDFLARE_DB_SUBDOMAIN',
      /must differ from CLOUDFLARE_SUBDOMAIN/,
    ],
    [{ CLOUDFLARE_TLS_TIMEOUT: '10 seconds' }, 'CLOUDFLARE_TLS_TIMEOUT', /expected a duration/],
    [{ CLOUDFLARE_KEEPALIVE_TIMEOUT: '-90s' }, 'CLOUDFLARE_KEEPALIVE_TIMEOUT', /greater than zero/],
    [{ CLOUDFLARE_DB_CONNECT_TIMEOUT: '0s' }, 'CLOUDFLARE_DB_CONNECT_TIMEOUT', /greater than zero/],
    [{ CLOUDFLARE_DB_TCP_KEEPALIVE: '1d' }, 'CLOUDFLARE_DB_TCP_KEEPALIVE', /expected a duration/],
    [{ CLOUDFLARE_METRICS: '20241' }, 'CLOUDFLARE_METRICS', /host:port/],
    [{ CLOUDFLARE_ORIGIN_HOST: 'http://gateway' }, 'CLOUDFLARE_ORIGIN_HOST', /host name or IP/],
    [{ CLOUDFLARE_EXTRA_INGRESS: '{"service":"x"}' }, 'CLOUDFLARE_EXTRA_INGRESS', /JSON array/],
    [{ CLOUDFLARE_EXTRA_INGRESS: '[{"service":' }, 'CLOUDFLARE_EXTRA_INGRESS', /not valid JSON/],
    [
      { CLOUDFLARE_CONFIG_FILE: '/etc/cloudflared/x.json', CLOUDFLARE_CREDENTIALS_FILE: '/etc/cloudflared/x.json' },
      'CLOUDFLARE_CONFIG_FILE',
      /must not be the credentials file/,
    ],
    [{ CLOUDFLARE_EXTRA_INGRESS: '["http_status:404"]' }, 'CLOUDFLARE_EXTRA_INGRESS[0]', /expected an object/],
  ])('refuses %j, naming %s', (env, variable, message) => {
    const error = configError({ ...ENABLED, ...env });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it('checks values that are set even when the tunnel is off, but requires nothing then', () => {
    expect(configError({ CLOUDFLARE_DOMAIN: 'https://example.com' }).variable).toBe('CLOUDFLARE_DOMAIN');
    expect(tunnelConfig({ CLOUDFLARE_ENABLED: 'false', CLOUDFLARE_DOMAIN: 'example.com' }).enabled).toBe(false);
  });

  it('is part of loadConfig', () => {
    expect(loadConfig({ ...ENABLED }).tunnel.enabled).toBe(true);
    expect(() => loadConfig({ ...ENABLED, CLOUDFLARE_DOMAIN: 'https://example.com' })).toThrow(/^CLOUDFLARE_DOMAIN: /);
  });
});
