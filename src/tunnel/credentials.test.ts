import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config';
import { checkCredentialsFile } from './credentials';

const ID = '6ff42ae2-765d-4adf-8112-31c55c1551ef';
const SECRET = randomBytes(32).toString('base64');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tm-creds-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(content: string | object, mode = 0o600): string {
  const path = join(dir, `${ID}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  chmodSync(path, mode);
  return path;
}

function refusal(path: string, tunnelId = ID): ConfigError {
  try {
    checkCredentialsFile(path, tunnelId);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('checkCredentialsFile', () => {
  it('accepts the file `cloudflared tunnel create` writes', () => {
    expect(checkCredentialsFile(file({ AccountTag: 'acc', TunnelSecret: SECRET, TunnelID: ID }), ID)).toEqual({ warnings: [] });
    expect(checkCredentialsFile(file({ AccountTag: 'acc', TunnelSecret: SECRET, TunnelID: ID.toUpperCase() }), ID)).toEqual({
      warnings: [],
    });
  });

  it('warns (without failing) when other users can read it', () => {
    const { warnings } = checkCredentialsFile(file({ AccountTag: 'acc', TunnelSecret: SECRET, TunnelID: ID }, 0o644), ID);
    expect(warnings).toEqual([expect.stringMatching(/readable by other users \(mode 644\).*chmod 600/)]);
  });

  it.each([
    ['missing', () => join(dir, 'missing.json'), /does not exist: create the tunnel with `cloudflared tunnel create <name>`/],
    ['a directory', () => dir, /is not a file/],
    ['not JSON', () => file(`{"TunnelSecret": "${SECRET}", oops`), /is not valid JSON/],
    ['a JSON array', () => file([ID]), /is not a JSON object/],
    ['without TunnelID', () => file({ AccountTag: 'acc', TunnelSecret: SECRET }), /has no TunnelID/],
    [
      'for another tunnel',
      () => file({ AccountTag: 'acc', TunnelSecret: SECRET, TunnelID: '00000000-0000-4000-8000-000000000000' }),
      /belongs to tunnel 00000000-0000-4000-8000-000000000000, but CLOUDFLARE_TUNNEL_ID is 6ff42ae2/,
    ],
    ['without AccountTag', () => file({ TunnelSecret: SECRET, TunnelID: ID }), /has no AccountTag/],
    [
      'with a short secret',
      () => file({ AccountTag: 'acc', TunnelSecret: randomBytes(31).toString('base64'), TunnelID: ID }),
      /TunnelSecret that is not standard base64 of at least 32 bytes/,
    ],
    [
      'with URL-safe base64',
      () => file({ AccountTag: 'acc', TunnelSecret: `${SECRET.slice(0, -4)}-_-_`, TunnelID: ID }),
      /TunnelSecret that is not standard base64/,
    ],
    ['with a numeric secret', () => file({ AccountTag: 'acc', TunnelSecret: 12345, TunnelID: ID }), /TunnelSecret/],
  ])('refuses a file that is %s, naming CLOUDFLARE_CREDENTIALS_FILE', (_, make, message) => {
    const error = refusal(make());
    expect(error.variable).toBe('CLOUDFLARE_CREDENTIALS_FILE');
    expect(error.message).toMatch(message);
  });

  it('never quotes the secret, even when the JSON around it is broken', () => {
    for (const content of [
      `{"TunnelSecret": "${SECRET}"`,
      `{"TunnelSecret": "${SECRET}", "TunnelID": "x"}`,
      `["${SECRET}"]`,
      `{"TunnelSecret": "${SECRET}!", "TunnelID": "${ID}", "AccountTag": "a"}`,
    ]) {
      const error = refusal(file(content));
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain(SECRET.slice(0, 8));
    }
  });
});
