/**
 * The row protocol of the reads: the keys a read statement adds to a row beside its properties
 * (each property is a GraphQL field name; none of these is one, none starts with a letter).
 */

/** A row as a read statement returns it: its properties, and the keys below. */
export type Row = Record<string, unknown>;

export const RowKey = {
  /** A planned relation's value, handed to GraphQL as it is (no input-object argument to validate). */
  trusted: (field: string): string => `@${field}`,
  /** A planned relation's value the type-graphql resolver reads once it has validated the arguments. */
  checked: (field: string): string => `?${field}`,
  /** A planned page's totalCount, beside its rows. */
  count: (field: string): string => `#${field}`,
  /** A root page's totalCount (one row of it joined to the page: no response key has a `$`). */
  rootTotal: '$total',
  /** Sort key `i` of a keyset page as text: a part of the row's cursor. */
  cursor: (i: number): string => `__k${i}`,
  /** Sort key `i` as it is, ordering the union of a page's parts. */
  sortKey: (i: number): string => `__r${i}`,
  /** The parent id a row of a batched read (many parents in one statement) belongs to. */
  parent: '__parent',
} as const;

/** What the statement returned for a relation field of `row` (keyed by its response key), or undefined when it was not planned. */
export function plannedValue<T>(row: object, responseKey: string): T | undefined {
  const r = row as Record<string, T | undefined>;
  const value = r[RowKey.trusted(responseKey)];
  return value !== undefined ? value : r[RowKey.checked(responseKey)];
}
