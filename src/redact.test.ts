import { redact, redactString, REDACTED } from './redact';

describe('log redaction', () => {
  it('masks secret keys at any depth', () => {
    expect(redact({ headers: { authorization: 'Bearer abc', accept: 'json' }, input: { configuration: { token: 'x' } } })).toEqual({
      headers: { authorization: REDACTED, accept: 'json' },
      input: { configuration: REDACTED },
    });
  });

  it('scrubs tokens, JWTs and URL passwords inside strings', () => {
    expect(redactString('sent Bearer tmg_abcdefghijklmnop to postgres://app:hunter2@db/x')).toBe(
      `sent Bearer ${REDACTED} to postgres://app:${REDACTED}@db/x`,
    );
    expect(redactString('jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig here')).toBe(`jwt ${REDACTED} here`);
  });

  it('scrubs secrets in strings without spaces too (the fast path skips only strings that cannot hold one)', () => {
    expect(redactString('tmg_abcdefghijklmnop')).toBe(`tmg_${REDACTED}`);
    expect(redactString('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig')).toBe(REDACTED);
    expect(redactString('redis://u:pw@host')).toBe(`redis://u:${REDACTED}@host`);
    expect(redactString('TaskBoard')).toBe('TaskBoard');
    expect(redactString('BAD_USER_INPUT,CONFLICT')).toBe('BAD_USER_INPUT,CONFLICT');
  });

  it('turns errors into plain objects with message and stack, redacting query parameters', () => {
    const error = Object.assign(new Error('insert failed'), { query: 'INSERT ...', parameters: ['s3cret'] });
    const out = redact({ error }) as any;
    expect(out.error).toMatchObject({ name: 'Error', message: 'insert failed', query: 'INSERT ...', parameters: REDACTED });
    expect(out.error.stack).toContain('insert failed');
  });

  it('survives cycles', () => {
    const a: any = { name: 'a' };
    a.self = a;
    expect(redact(a)).toEqual({ name: 'a', self: '[circular]' });
  });
});
