import { getNullableType, isInputObjectType, isListType, isScalarType, type GraphQLInputType, type GraphQLResolveInfo } from 'graphql';
import { BadInputError } from '../errors';
import type { InputLimits } from '../config';

/** The defaults of INPUT_MAX_* (security.config.ts), for schemas built without a config (schema:print). */
export const DEFAULT_INPUT_LIMITS: InputLimits = {
  jsonBytes: 65_536,
  jsonNodes: 10_000,
  logBytes: 65_536,
  stringLength: 100_000,
  cursorLength: 1_024,
  listItems: 100,
};

/**
 * Lists allowed more items than INPUT_MAX_LIST_ITEMS, by where they are: `Type.field.argument` for
 * an argument, `InputType.field` for an input field (their services check these caps too).
 */
export type ListCaps = ReadonlyMap<string, number>;

const JSON_SCALARS = new Set(['JSON', 'JSONObject']);
/** A UTF-16 surrogate not part of a pair: with the u flag, a well-formed pair is one code point and does not match. */
const LONE_SURROGATE = /\p{Cs}/u;
const CURSOR_ARGS = new Set(['after', 'before']);

/**
 * Caps on every size a client controls, checked once per resolver call over all its arguments,
 * guided by the schema's input types, so that no input class needs code of its own (a field added
 * to an input is covered as it is):
 *  - a JSON value: at most `jsonBytes` of JSON text and `jsonNodes` values;
 *  - a list of JSON values (appendExecutionLog's entries): at most `logBytes` in all;
 *  - a list, at any depth (inside and/or/not too): at most `listItems` items, or its own cap in
 *    `listCaps`; checked before its items are;
 *  - a string: at most `stringLength` characters (`cursorLength` for `after`/`before`);
 *  - no NUL character and no unpaired UTF-16 surrogate in any string or JSON key (PostgreSQL cannot
 *    store either: jsonb refuses `\ud800`, and a text column would silently get U+FFFD instead);
 *  - no JSON number too large for a double (`1e400` parses as Infinity, which JSON would store as null).
 * A violation is BAD_USER_INPUT naming the argument path (`input.requirements`), before any SQL.
 */
export function checkArgumentSizes(
  info: GraphQLResolveInfo,
  args: Record<string, unknown>,
  limits: InputLimits,
  listCaps: ListCaps = new Map(),
): void {
  const field = info.parentType.getFields()[info.fieldName];
  if (!field) return;
  const check: Check = { limits, listCaps };
  for (const arg of field.args) {
    const value = args[arg.name];
    if (value !== undefined && value !== null)
      checkValue(arg.type, value, arg.name, check, `${info.parentType.name}.${info.fieldName}.${arg.name}`);
  }
}

interface Check {
  limits: InputLimits;
  listCaps: ListCaps;
}

/** `where` names the argument or input field holding the value, for its list cap. */
function checkValue(type: GraphQLInputType, value: unknown, path: string, check: Check, where: string): void {
  if (value === null || value === undefined) return;
  const { limits } = check;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return checkValue(nullable.ofType, value, path, check, where);
    const cap = check.listCaps.get(where) ?? limits.listItems;
    if (value.length > cap)
      throw new BadInputError(
        path,
        `holds ${value.length} items; at most ${cap}${check.listCaps.has(where) ? '' : ' (INPUT_MAX_LIST_ITEMS)'}`,
        { limit: cap },
      );
    const item = getNullableType(nullable.ofType);
    if (isScalarType(item) && JSON_SCALARS.has(item.name)) {
      value.forEach((v, i) => checkJson(v, `${path}[${i}]`, limits));
      const bytes = Buffer.byteLength(JSON.stringify(value));
      if (bytes > limits.logBytes)
        throw new BadInputError(path, `holds ${bytes} bytes of JSON; at most ${limits.logBytes} per call (INPUT_MAX_LOG_BYTES)`, {
          limit: limits.logBytes,
        });
      return;
    }
    value.forEach((v, i) => checkValue(nullable.ofType, v, `${path}[${i}]`, check, where));
    return;
  }
  if (isInputObjectType(nullable)) {
    if (typeof value !== 'object') return;
    const fields = nullable.getFields();
    for (const name of Object.keys(fields)) {
      const v = (value as Record<string, unknown>)[name];
      if (v !== undefined && v !== null) checkValue(fields[name].type, v, `${path}.${name}`, check, `${nullable.name}.${name}`);
    }
    return;
  }
  if (isScalarType(nullable)) {
    if (JSON_SCALARS.has(nullable.name)) return checkJson(value, path, limits);
    if (typeof value === 'string')
      checkString(
        value,
        path,
        CURSOR_ARGS.has(path) ? limits.cursorLength : limits.stringLength,
        CURSOR_ARGS.has(path) ? 'INPUT_MAX_CURSOR_LENGTH' : 'INPUT_MAX_STRING_LENGTH',
      );
  }
}

function checkString(value: string, path: string, max: number, variable: string): void {
  if (value.length > max) throw new BadInputError(path, `is ${value.length} characters long; at most ${max} (${variable})`, { limit: max });
  checkText(value, path, '');
}

function checkText(value: string, path: string, where: string): void {
  if (value.includes('\u0000'))
    throw new BadInputError(path, `contains a NUL character (\\u0000)${where}, which cannot be stored`, { reason: 'nul' });
  if (LONE_SURROGATE.test(value))
    throw new BadInputError(path, `contains an unpaired UTF-16 surrogate (\\ud800-\\udfff)${where}, which is not valid Unicode`, {
      reason: 'surrogate',
    });
}

/** Counts values without recursion (a hostile value must not overflow the stack), then measures bytes. */
function checkJson(value: unknown, path: string, limits: InputLimits): void {
  const stack: unknown[] = [value];
  let nodes = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (++nodes > limits.jsonNodes)
      throw new BadInputError(path, `holds more than ${limits.jsonNodes} JSON values (INPUT_MAX_JSON_NODES)`, { limit: limits.jsonNodes });
    if (typeof v === 'string') checkText(v, path, '');
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new BadInputError(path, 'holds a number too large for JSON (a double)', { reason: 'number' });
    } else if (Array.isArray(v)) {
      for (const child of v) stack.push(child);
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) {
        checkText(key, path, ' in a key');
        stack.push(child);
      }
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (bytes > limits.jsonBytes)
    throw new BadInputError(path, `is ${bytes} bytes of JSON; at most ${limits.jsonBytes} (INPUT_MAX_JSON_BYTES)`, {
      limit: limits.jsonBytes,
    });
}
