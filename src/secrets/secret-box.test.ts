import { randomBytes } from 'node:crypto';
import { credentialsHint, hasStoredCredentials, isSealed, SecretBox, SecretKeyError } from './secret-box';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

describe('SecretBox', () => {
  it('seals to ciphertext that names its key and opens it again', () => {
    const box = new SecretBox(new Map([['k1', k1]]), 'k1');
    const sealed = box.seal({ token: 'ghp_supersecretvalue1234' });
    expect(isSealed(sealed)).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain('supersecret');
    expect(sealed).toMatchObject({ v: 1, alg: 'A256GCM', kid: 'k1' });
    expect(box.open(sealed)).toEqual({ token: 'ghp_supersecretvalue1234' });
  });

  it('uses a fresh IV each time', () => {
    const box = new SecretBox(new Map([['k1', k1]]), 'k1');
    expect((box.seal({ a: 'b' }) as any).iv).not.toBe((box.seal({ a: 'b' }) as any).iv);
  });

  it('opens rows sealed by an older key after rotation, and says which key is missing', () => {
    const old = new SecretBox(new Map([['k1', k1]]), 'k1').seal({ apiKey: 'x' });
    const rotated = new SecretBox(
      new Map([
        ['k2', k2],
        ['k1', k1],
      ]),
      'k2',
    );
    expect(rotated.open(old)).toEqual({ apiKey: 'x' });
    expect(rotated.needsRotation(old)).toBe(true);
    expect(rotated.needsRotation(rotated.seal({ apiKey: 'x' }))).toBe(false);
    expect(() => new SecretBox(new Map([['k2', k2]]), 'k2').open(old)).toThrow(SecretKeyError);
  });

  it('refuses a tampered ciphertext or a changed key id', () => {
    const box = new SecretBox(
      new Map([
        ['k1', k1],
        ['k2', k1],
      ]),
      'k1',
    );
    const sealed = box.seal({ token: 'abc' }) as any;
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0] ^= 1;
    expect(() => box.open({ ...sealed, ct: ct.toString('base64') })).toThrow();
    expect(() => box.open({ ...sealed, kid: 'k2' })).toThrow(); // same key bytes, but the kid is authenticated
  });

  it('keeps an empty configuration empty and treats plaintext rows as needing rotation', () => {
    const box = new SecretBox(new Map([['k1', k1]]), 'k1');
    expect(box.seal({})).toEqual({});
    expect(hasStoredCredentials({})).toBe(false);
    expect(box.needsRotation({})).toBe(false);
    expect(box.needsRotation({ token: 'plain' })).toBe(true);
    expect(box.open({ token: 'plain' })).toEqual({ token: 'plain' });
  });
});

describe('credentialsHint', () => {
  it('lists the keys set, with the last four characters of long random tokens only', () => {
    expect(credentialsHint({ token: 'ghp_0123456789abcdef0123456789', org: 'acme' })).toBe('org=••••, token=••••6789');
    expect(credentialsHint({ token: 'ghp_0123456789abcdef' })).toBe('token=••••'); // under 24 characters
    expect(credentialsHint({ empty: '', none: null, token: 'x' })).toBe('token=••••');
    expect(credentialsHint({})).toBeNull();
  });

  it('never hints at passwords, URLs or user names, however long', () => {
    const long = 'Zq3vT9xLk2Wm8Rp4Yb7Nc1Hd6Jf5Gs0A';
    expect(
      credentialsHint({
        password: long,
        db_password: `${long}; --`,
        url: 'https://api.example.com/v1/data/',
        endpoint: long,
        username: long,
        apiKey: long,
        webhook: `https://hooks.example.com/${long}`,
      }),
    ).toBe(`apiKey=••••${long.slice(-4)}, db_password=••••, endpoint=••••, password=••••, url=••••, username=••••, webhook=••••`);
  });
});
