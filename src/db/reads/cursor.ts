import { BadInputError } from '../../errors';

/** The type of a sort key, as PostgreSQL casts it back from the cursor's text form. */
export type KeyType = 'int' | 'bigint' | 'text' | 'uuid' | 'timestamptz';

const KEY_FORMAT: Record<KeyType, RegExp> = {
  int: /^-?\d{1,10}$/,
  bigint: /^-?\d{1,19}$/,
  text: /^[\s\S]{0,100000}$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  // Written by the SQL in keyset.ts: UTC with microseconds, so no precision is lost.
  timestamptz: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/,
};

/**
 * An opaque keyset cursor: the ordering it belongs to plus the row's sort key values (as text,
 * `null` for a NULL column) ending with its id. base64url of a JSON array; clients must not parse it.
 */
export function encodeCursor(signature: string, values: readonly (string | null)[]): string {
  return Buffer.from(JSON.stringify([signature, ...values]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor for an ordering, checking that it was made for that ordering and that every
 * value has the form its key needs; anything else is the client's mistake (BAD_USER_INPUT).
 */
export function decodeCursor(field: string, cursor: string, signature: string, types: readonly KeyType[]): (string | null)[] {
  const bad = (why: string) =>
    new BadInputError(field, `malformed cursor (${why}); use a cursor from this connection with the same orderBy`);
  if (cursor.length > 4096 || !/^[A-Za-z0-9_-]*$/.test(cursor)) throw bad('not a cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== types.length + 1) throw bad('not a cursor');
  if (parsed[0] !== signature) throw bad('it belongs to another ordering');
  const values = parsed.slice(1) as unknown[];
  values.forEach((value, i) => {
    if (value === null && i < types.length - 1) return; // the last value is the id, never null
    // no NUL in text: PostgreSQL cannot take it (a forged cursor holding one was a database error)
    if (typeof value !== 'string' || !KEY_FORMAT[types[i]].test(value) || value.includes('\u0000')) throw bad('a value has the wrong form');
  });
  return values as (string | null)[];
}
