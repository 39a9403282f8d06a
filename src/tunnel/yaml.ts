/**
 * A YAML emitter for the small documents a cloudflared config is: block mappings and sequences of
 * strings, booleans and numbers, keys in the order given. Written here rather than taken from a
 * library so that the output is byte-for-byte predictable (the generated file is reviewed and
 * diffed): a string is plain only when every YAML reader — 1.2 like `yaml`, 1.1 like go-yaml's
 * resolver — reads it back as the same string; otherwise it is double-quoted.
 */
import { parse } from 'yaml';

/** A string that is always written double-quoted (e.g. `metrics: "127.0.0.1:20241"`, never a number). */
export class Quoted {
  constructor(readonly value: string) {}
}

export type YamlValue = string | number | boolean | null | Quoted | YamlValue[] | { [key: string]: YamlValue };

const readBack = new Map<string, boolean>();

function readsBackAs(text: string): boolean {
  let same = readBack.get(text);
  if (same === undefined) {
    same = parsesAsItself(text);
    if (readBack.size < 10_000) readBack.set(text, same); // a pure function of the text: safe to remember
  }
  return same;
}

function parsesAsItself(text: string): boolean {
  for (const version of ['1.1', '1.2'] as const) {
    try {
      if (parse(`k: ${text}\n`, { version }).k !== text) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Plain (unquoted) only for strings with no YAML meaning: no indicator, no comment, no type. */
export function isPlainSafe(text: string): boolean {
  if (text === '' || text !== text.trim()) return false;
  if (!/^[A-Za-z0-9_./:^$()|*+\-=~\\]+$/.test(text)) return false; // no spaces, quotes, flow indicators, '#', '&', '!', ...
  if (/^[-?:*|=~]/.test(text) || text.endsWith(':')) return false;
  return readsBackAs(text);
}

export function quote(text: string): string {
  // JSON's escapes are YAML's; line and paragraph separators and C1 controls must be escaped too.
  return JSON.stringify(text).replace(/[\u0080-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function scalar(value: YamlValue): string | undefined {
  if (value instanceof Quoted) return quote(value.value);
  if (typeof value === 'string') return isPlainSafe(value) ? value : quote(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} in a tunnel config`);
    return String(value);
  }
  if (value === null) return 'null';
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (!Array.isArray(value) && Object.keys(value).length === 0) return '{}';
  return undefined;
}

function key(text: string): string {
  return isPlainSafe(text) ? text : quote(text);
}

function lines(value: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const inline = scalar(item);
      if (inline !== undefined) {
        out.push(`${pad}- ${inline}`);
      } else {
        // The item's first line goes after the dash; the rest is indented to line up with it.
        const [first, ...rest] = lines(item, indent + 2);
        out.push(`${pad}- ${first.slice(indent + 2)}`, ...rest);
      }
    }
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, YamlValue>)) {
    const inline = scalar(v);
    if (inline !== undefined) out.push(`${pad}${key(k)}: ${inline}`);
    else out.push(`${pad}${key(k)}:`, ...lines(v, indent + 2));
  }
  return out;
}

/** The document as YAML text, ending in a newline. */
export function emitYaml(document: { [key: string]: YamlValue }): string {
  return `${lines(document, 0).join('\n')}\n`;
}

/** The plain JSON-like value a YAML reader returns for `value` (Quoted unwrapped). */
export function plainValue(value: YamlValue): unknown {
  if (value instanceof Quoted) return value.value;
  if (Array.isArray(value)) return value.map(plainValue);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainValue(v)]));
  return value;
}
