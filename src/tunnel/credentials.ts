/**
 * Checks the tunnel credentials file (`<TunnelID>.json`, written by `cloudflared tunnel create`)
 * before anything is started: cloudflared itself reads it only when the tunnel runs, which is too
 * late. The secret is read to check its shape and then dropped: it is never logged, returned or
 * quoted in an error (not even through JSON.parse's message, which quotes the text it choked on).
 */
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../config';

const VARIABLE = 'CLOUDFLARE_CREDENTIALS_FILE';
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface CredentialsCheck {
  /** Advice that does not stop start-up (e.g. the file is readable by other users). */
  warnings: string[];
}

function fail(file: string, problem: string): never {
  throw new ConfigError(VARIABLE, `${file} ${problem}`);
}

/** Throws a ConfigError naming CLOUDFLARE_CREDENTIALS_FILE when the file would not run the tunnel. */
export function checkCredentialsFile(file: string, tunnelId: string): CredentialsCheck {
  let mode: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) fail(file, 'is not a file: expected the tunnel credentials JSON (<TunnelID>.json)');
    mode = stat.mode;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      fail(
        file,
        `does not exist: create the tunnel with \`cloudflared tunnel create <name>\` (it writes ~/.cloudflared/${tunnelId}.json) and point CLOUDFLARE_CREDENTIALS_FILE at that file`,
      );
    }
    fail(file, `cannot be read (${code ?? 'error'})`);
  }

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail(
      file,
      code === 'EACCES'
        ? "is not readable by the gateway's user: fix its owner or permissions (chmod 600, owned by this user)"
        : `cannot be read (${code ?? 'error'})`,
    );
  }

  let credentials: unknown;
  try {
    credentials = JSON.parse(text);
  } catch {
    fail(
      file,
      'is not valid JSON: expected {"AccountTag": "...", "TunnelSecret": "...", "TunnelID": "..."} as `cloudflared tunnel create` writes it',
    );
  }
  if (credentials === null || typeof credentials !== 'object' || Array.isArray(credentials)) {
    fail(file, 'is not a JSON object with AccountTag, TunnelSecret and TunnelID');
  }
  const { AccountTag, TunnelSecret, TunnelID } = credentials as Record<string, unknown>;
  if (typeof TunnelID !== 'string' || TunnelID === '') fail(file, 'has no TunnelID');
  if (TunnelID.toLowerCase() !== tunnelId.toLowerCase()) {
    fail(file, `belongs to tunnel ${TunnelID}, but CLOUDFLARE_TUNNEL_ID is ${tunnelId}: point one of them at the other`);
  }
  if (typeof AccountTag !== 'string' || AccountTag === '') fail(file, 'has no AccountTag');
  if (typeof TunnelSecret !== 'string' || !STANDARD_BASE64.test(TunnelSecret) || Buffer.from(TunnelSecret, 'base64').length < 32) {
    fail(
      file,
      'has a TunnelSecret that is not standard base64 of at least 32 bytes: recreate it with `cloudflared tunnel token --cred-file`',
    );
  }

  const warnings: string[] = [];
  if ((mode & 0o077) !== 0) {
    warnings.push(
      `${file} is readable by other users (mode ${(mode & 0o777).toString(8)}): it holds the tunnel secret, run chmod 600 on it`,
    );
  }
  return { warnings };
}
