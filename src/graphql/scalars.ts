import { DateTimeResolver, JSONObjectResolver, JSONResolver, UUIDResolver } from 'graphql-scalars';

/** ISO-8601 timestamps (`timestamptz` columns). */
export const DateTimeScalar = DateTimeResolver;
/** Any JSON value (JSONB columns holding arrays or scalars). */
export const JSONScalar = JSONResolver;
/** A JSON object (JSONB columns that must hold an object); an array or a string is refused. */
export const JSONObjectScalar = JSONObjectResolver;
/** A raw UUID key; a malformed one is refused before any resolver runs. */
export const UUIDScalar = UUIDResolver;

// `any` rather than `unknown` values: TypeORM's partial-entity types cannot map `unknown`.
export type JSONObject = { [key: string]: any };
export type JSONArray = any[];
export type JSONValue = JSONObject | JSONArray | string | number | boolean | null;
