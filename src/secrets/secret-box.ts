import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for integration credentials. A stored value is an envelope naming the key that
 * sealed it, so keys can rotate: every configured key opens, only the active one seals.
 */
export interface SealedEnvelope {
  /** Format version. */
  v: 1;
  alg: 'A256GCM';
  /** Id of the key that sealed it (SECRETS_KEYS). */
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export function isSealed(value: unknown): value is SealedEnvelope {
  const v = value as Partial<SealedEnvelope> | null;
  return typeof v === 'object' && v !== null && v.v === 1 && v.alg === 'A256GCM' && typeof v.kid === 'string' && typeof v.ct === 'string';
}

/** Whether a stored configuration holds anything (sealed envelopes of `{}` are sealed as empty: no envelope). */
export function hasStoredCredentials(stored: unknown): boolean {
  if (isSealed(stored)) return true;
  return typeof stored === 'object' && stored !== null && Object.keys(stored).length > 0;
}

export class SecretBox {
  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly activeKeyId: string,
    /** Bound into the authentication tag, so a ciphertext cannot be moved to another purpose. */
    private readonly purpose = 'external_integrations.configuration',
  ) {
    if (!keys.has(activeKeyId)) throw new SecretKeyError(`active key ${activeKeyId} is not among the keys`);
  }

  /** Seals a JSON object; an empty object stays `{}` (nothing to hide, and hasCredentials is false). */
  seal(value: Record<string, unknown>): SealedEnvelope | Record<string, never> {
    if (Object.keys(value).length === 0) return {};
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId) as Buffer, iv);
    cipher.setAAD(Buffer.from(`${this.purpose}|${this.activeKeyId}`));
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return {
      v: 1,
      alg: 'A256GCM',
      kid: this.activeKeyId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ct: ct.toString('base64'),
    };
  }

  /** Opens a stored value; a plaintext object (written before encryption existed) is returned as is. */
  open(stored: unknown): Record<string, unknown> {
    if (!isSealed(stored)) return (stored ?? {}) as Record<string, unknown>;
    const key = this.keys.get(stored.kid);
    if (!key)
      throw new SecretKeyError(
        `no key "${stored.kid}" in SECRETS_KEYS: keep old keys listed until npm run secrets:rotate has re-encrypted every row`,
      );
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'));
    decipher.setAAD(Buffer.from(`${this.purpose}|${stored.kid}`));
    decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(stored.ct, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
  }

  /** Whether a stored value needs re-sealing under the active key (sealed with another, or plaintext). */
  needsRotation(stored: unknown): boolean {
    if (isSealed(stored)) return stored.kid !== this.activeKeyId;
    return hasStoredCredentials(stored);
  }
}

/** Keys whose values are never hinted at, however random they look: passwords, URLs, user names. */
const NO_SUFFIX_KEY = /pass|pwd|url|uri|endpoint|host|dsn|connection|user|login|email|account|name/i;

/** A long random token (an API key): at least 24 characters, one word, not a URL. */
const looksLikeToken = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 24 && /^[\w.~+/=-]+$/.test(v) && !/^(https?|postgres(ql)?|redis):/i.test(v);

/**
 * A masked hint of a configuration, for people to recognise it: the keys that are set, with the
 * last four characters only of values that are long random tokens (≥ 24 characters), and never for
 * keys that name a password, URL or user: `org=••••, password=••••, token=••••f3a9`. Null when empty.
 */
export function credentialsHint(value: Record<string, unknown>): string | null {
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined && value[k] !== null && value[k] !== '')
    .sort();
  if (keys.length === 0) return null;
  const parts = keys.map((k) => {
    const v = value[k];
    const tail = looksLikeToken(v) && !NO_SUFFIX_KEY.test(k) ? v.slice(-4) : '';
    return `${k.slice(0, 40)}=••••${tail}`;
  });
  const hint = parts.join(', ');
  return hint.length > 255 ? `${hint.slice(0, 250)}, …` : hint;
}
