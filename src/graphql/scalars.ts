import { GraphQLScalarType } from 'graphql';
import { DateTimeResolver, JSONObjectResolver, JSONResolver, UUIDResolver } from 'graphql-scalars';

/** ISO-8601 timestamps (`timestamptz` columns). */
export const DateTimeScalar = DateTimeResolver;
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
