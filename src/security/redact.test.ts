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
