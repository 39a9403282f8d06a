import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { TunnelService } from './tunnel.service';

const ID = '6ff42ae2-765d-4adf-8112-31c55c1551ef';
let dir: string;
let credentials: string;
let configFile: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tm-tunnel-service-'));
  credentials = join(dir, `${ID}.json`);
  configFile = join(dir, 'out', 'config.yml');
  writeFileSync(credentials, JSON.stringify({ AccountTag: 'a', TunnelSecret: randomBytes(32).toString('base64'), TunnelID: ID }), {
    mode: 0o600,
  });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function service(env: Record<string, string> = {}): TunnelService {
  const config = loadConfig({
    PORT: '0',
    DB_HOST: '127.0.0.1',
    CLOUDFLARE_ENABLED: 'true',
    CLOUDFLARE_TUNNEL_ID: ID,
    CLOUDFLARE_CREDENTIALS_FILE: credentials,
    CLOUDFLARE_CONFIG_FILE: configFile,
    CLOUDFLARE_DOMAIN: 'example.com',
    ...env,
  });
  return new TunnelService(config.tunnel, config);
}

describe('TunnelService', () => {
  it('precheck validates everything but writes nothing; write writes for the real port', () => {
    const tunnel = service();
    tunnel.precheck();
    expect(existsSync(configFile)).toBe(false);
    expect(tunnel.status()).toMatchObject({ configValid: false, problems: ['the tunnel config has not been written yet'] });
    tunnel.write(43210);
    expect(readFileSync(configFile, 'utf8')).toContain('service: http://127.0.0.1:43210\n');
    expect(tunnel.status()).toMatchObject({ configValid: true, problems: [] });
  });

  it('reports the config invalid when the file is edited, removed, or the credentials disappear', () => {
    const tunnel = service();
    tunnel.precheck();
    tunnel.write(4000);
    const text = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, text.replace('30s', '31s'));
    expect(tunnel.status()).toMatchObject({
      configValid: false,
      problems: [expect.stringMatching(/was changed after the gateway wrote it/)],
    });
    unlinkSync(configFile);
    expect(tunnel.status()).toMatchObject({ configValid: false, problems: [expect.stringMatching(/cannot be read \(ENOENT\)/)] });
    writeFileSync(configFile, text);
    expect(tunnel.status()).toMatchObject({ configValid: true, problems: [] });
    unlinkSync(credentials);
    expect(tunnel.status()).toMatchObject({
      configValid: false,
      credentialsFound: false,
      problems: [expect.stringMatching(/credentials file .* is gone/)],
    });
  });

  it('when disabled: writes nothing, reports enabled false', () => {
    const tunnel = service({ CLOUDFLARE_ENABLED: 'false' });
    tunnel.precheck();
    tunnel.write(4000);
    expect(existsSync(configFile)).toBe(false);
    expect(tunnel.status()).toMatchObject({ enabled: false, routes: [] });
    expect(TunnelService.disabled().status()).toMatchObject({ enabled: false, problems: [] });
  });

  it('logs the credentials-file warning without the secret', () => {
    chmodSync(credentials, 0o644);
    const warnings: string[] = [];
    const config = loadConfig({
      PORT: '4000',
      DB_HOST: '127.0.0.1',
      CLOUDFLARE_ENABLED: 'true',
      CLOUDFLARE_TUNNEL_ID: ID,
      CLOUDFLARE_CREDENTIALS_FILE: credentials,
      CLOUDFLARE_CONFIG_FILE: configFile,
      CLOUDFLARE_DOMAIN: 'example.com',
    });
    const logger = { warn: (m: string) => warnings.push(m), info: () => undefined } as never;
    new TunnelService(config.tunnel, config, logger).precheck();
    expect(warnings).toEqual([expect.stringMatching(/readable by other users/)]);
    const secret = JSON.parse(readFileSync(credentials, 'utf8')).TunnelSecret;
    expect(warnings.join()).not.toContain(secret);
  });
});
