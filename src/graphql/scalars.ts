import { GraphQLScalarType, type ValueNode } from 'graphql';
import { DateTimeResolver, JSONObjectResolver, JSONResolver, UUIDResolver } from 'graphql-scalars';
import { apiError } from './errors';

/** `Date.prototype.toISOString()`'s form: what the read planner has PostgreSQL write (to_char). */
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Year 0000 passes RFC 3339 but not PostgreSQL (which has no year 0: its `toISOString()` form is
 * refused by timestamptz), so it is refused here, as bad input, rather than by the database.
 */
function storable(date: unknown): Date {
  if (date instanceof Date && date.getUTCFullYear() < 1)
    throw apiError('BAD_USER_INPUT', 'DateTime cannot represent a date before the year 0001: PostgreSQL has no year 0');
  return date as Date;
}

/**
 * ISO-8601 timestamps (`timestamptz` columns). Output: a Date is sent as `toISOString()` gives it;
 * a string already in that form (timestamps the read planner had PostgreSQL format) is sent as it
 * is, without a Date made and formatted again per value.
 */
export const DateTimeScalar = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  serialize: (value) => (typeof value === 'string' && ISO_UTC.test(value) ? value : DateTimeResolver.serialize(value)),
  parseValue: (value) => storable(DateTimeResolver.parseValue(value)),
  parseLiteral: (ast: ValueNode, variables) => storable(DateTimeResolver.parseLiteral(ast, variables)),
});
/** Any JSON value (JSONB columns holding arrays or scalars). */
export const JSONScalar = JSONResolver;
/** A JSON object (JSONB columns that must hold an object); an array or a string is refused. */
export const JSONObjectScalar = JSONObjectResolver;
/**
 * A raw UUID key; a malformed one is refused before any resolver runs. Output values come from uuid
 * columns, so a string is sent as it is rather than matched against the UUID pattern again.
 */
export const UUIDScalar = new GraphQLScalarType({
  ...UUIDResolver.toConfig(),
  serialize: (value) => (typeof value === 'string' ? value : UUIDResolver.serialize(value)),
});

// `any` rather than `unknown` values: TypeORM's partial-entity types cannot map `unknown`.
export type JSONObject = { [key: string]: any };
export type JSONArray = any[];
export type JSONValue = JSONObject | JSONArray | string | number | boolean | null;
