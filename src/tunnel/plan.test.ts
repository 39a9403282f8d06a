import { loadConfig, reader, tunnelConfig, type EnabledTunnelConfig, type Env } from '../config';
import { databaseTarget, planTunnel } from './plan';

const ID = '6ff42ae2-765d-4adf-8112-31c55c1551ef';
const ENABLED: Env = { CLOUDFLARE_ENABLED: 'true', CLOUDFLARE_TUNNEL_ID: ID, CLOUDFLARE_DOMAIN: 'example.com' };

function enabled(env: Env = {}): EnabledTunnelConfig {
  const config = tunnelConfig(reader({ ...ENABLED, ...env }));
  if (!config.enabled) throw new Error('expected an enabled tunnel');
  return config;
}

describe('planTunnel (config + real port -> hostnames and origins)', () => {
  const db = loadConfig({ DATABASE_URL: 'postgres://u:secret@db.internal:6543/app' }).db;

  it('routes <subdomain>.<domain>/graphql to the gateway port, on 127.0.0.1 for a wildcard bind', () => {
    const plan = planTunnel({ host: '0.0.0.0', db }, enabled(), 4000);
    expect(plan.graphql).toEqual({
      hostname: 'db-api.example.com',
      path: '^/graphql(/|$)',
      service: 'http://127.0.0.1:4000',
      source: 'HOST',
    });
    expect(plan.database).toBeUndefined();
    expect(planTunnel({ host: '::', db }, enabled(), 4000).graphql.service).toBe('http://127.0.0.1:4000');
    expect(planTunnel({ host: '10.0.0.5', db }, enabled(), 8080).graphql.service).toBe('http://10.0.0.5:8080');
    expect(planTunnel({ host: '::1', db }, enabled(), 8080).graphql.service).toBe('http://[::1]:8080');
    expect(planTunnel({ host: '0.0.0.0', db }, enabled({ CLOUDFLARE_ORIGIN_HOST: 'gateway' }), 4000).graphql).toMatchObject({
      service: 'http://gateway:4000',
      source: 'CLOUDFLARE_ORIGIN_HOST',
    });
  });

  it('exposes the database as tcp://host:port of the real server, never with its password', () => {
    const plan = planTunnel({ host: '0.0.0.0', db }, enabled({ CLOUDFLARE_EXPOSE_DB: 'true' }), 4000);
    expect(plan.database).toEqual({
      hostname: 'db.example.com',
      service: 'tcp://db.internal:6543',
      connectTimeout: '10s',
      tcpKeepAlive: '30s',
      source: 'DATABASE_URL',
    });
    expect(JSON.stringify(plan)).not.toMatch(/secret/);
  });

  it('takes the database target from DB_HOST/DB_PORT, the embedded server, or the URL', () => {
    expect(databaseTarget(loadConfig({ DB_HOST: 'pg.internal', DB_PORT: '5433' }).db)).toEqual({ host: 'pg.internal', port: 5433 });
    expect(databaseTarget(loadConfig({ EMBEDDED_PG_PORT: '54400' }).db)).toEqual({ host: '127.0.0.1', port: 54400 });
    expect(databaseTarget(loadConfig({ DATABASE_URL: 'postgresql://localhost/app' }).db)).toEqual({ host: 'localhost', port: 5432 });
    expect(databaseTarget(loadConfig({ DATABASE_URL: 'postgres://[::1]:5432/app' }).db)).toEqual({ host: '::1', port: 5432 });
    expect(() => databaseTarget(loadConfig({ DATABASE_URL: 'postgres:///app?host=/var/run/postgresql' }).db)).toThrow(
      /^CLOUDFLARE_EXPOSE_DB: .*Unix socket/,
    );
  });

  it('needs a real port', () => {
    expect(() => planTunnel({ host: '0.0.0.0', db }, enabled(), 0)).toThrow(/^PORT: /);
  });
});
