import { decodeCursor, encodeCursor } from './cursor';

const ID = '0b7e2f1c-3a4d-4e5f-8a9b-0c1d2e3f4a5b';
const TYPES = ['int', 'timestamptz', 'uuid'] as const;

describe('keyset cursors', () => {
  it('round-trips the sort key values, NULLs included', () => {
    for (const values of [
      ['7', '2026-01-01T00:00:00.000001Z', ID],
      [null, null, ID],
    ]) {
      expect(decodeCursor('after', encodeCursor('sig', values), 'sig', TYPES)).toEqual(values);
    }
  });

  it('is opaque: URL-safe base64, no JSON visible', () => {
    expect(encodeCursor('sig', ['1', null, ID])).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['not base64', '***'],
    ['base64 of garbage', Buffer.from('{oops').toString('base64url')],
    ['not an array', Buffer.from('{"a":1}').toString('base64url')],
    ['too few values', encodeCursor('sig', ['1', ID])],
    ['another ordering', encodeCursor('other', ['1', null, ID])],
    ['a non-integer priority', encodeCursor('sig', ['1.5', null, ID])],
    ['SQL in a value', encodeCursor('sig', ['1; DROP TABLE tasks', null, ID])],
    ['a timestamp in another format', encodeCursor('sig', ['1', '2026-01-01 00:00:00+00', ID])],
    ['a null id', encodeCursor('sig', ['1', null, null])],
    ['a malformed id', encodeCursor('sig', ['1', null, 'not-a-uuid'])],
    ['a number instead of text', Buffer.from(JSON.stringify(['sig', 1, null, ID])).toString('base64url')],
  ])('refuses %s with BAD_USER_INPUT naming the argument', (_name, cursor) => {
    expect(() => decodeCursor('before', cursor, 'sig', TYPES)).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: expect.objectContaining({ field: 'before' }) }),
    );
  });
});
