/**
 * YAML for the small documents a cloudflared config is, written by the `yaml` library with every
 * scalar's style decided here so that the output is byte-for-byte predictable (the generated file
 * is reviewed and diffed): a string is plain only when every YAML reader — 1.2 like `yaml`, 1.1
 * like go-yaml's resolver — reads it back as the same string; otherwise it is double-quoted.
 */
import { LRUCache } from 'lru-cache';
import { Document, Pair, parse, Scalar, YAMLMap, YAMLSeq } from 'yaml';

/** A string that is always written double-quoted (e.g. `metrics: "127.0.0.1:20241"`, never a number). */
export class Quoted {
  constructor(readonly value: string) {}
}

export type YamlValue = string | number | boolean | null | Quoted | YamlValue[] | { [key: string]: YamlValue };

// A pure function of the text: safe to remember, bounded by the least recently used.
const readBack = new LRUCache<string, boolean>({ max: 10_000 });

function readsBackAs(text: string): boolean {
  let same = readBack.get(text);
  if (same === undefined) {
    same = parsesAsItself(text);
    readBack.set(text, same);
  }
  return same;
}

function parsesAsItself(text: string): boolean {
  for (const version of ['1.1', '1.2'] as const) {
    try {
      if ((parse(`k: ${text}\n`, { version }) as { k?: unknown }).k !== text) return false;
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

/** A string node: plain only when every reader reads it back as itself, double-quoted otherwise. */
function stringNode(text: string, forceQuotes = false): Scalar {
  const node = new Scalar(text);
  node.type = !forceQuotes && isPlainSafe(text) ? Scalar.PLAIN : Scalar.QUOTE_DOUBLE;
  return node;
}

function node(value: YamlValue): unknown {
  if (value instanceof Quoted) return stringNode(value.value, true);
  if (typeof value === 'string') return stringNode(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} in a tunnel config`);
    return new Scalar(value);
  }
  if (typeof value === 'boolean' || value === null) return new Scalar(value);
  if (Array.isArray(value)) {
    const seq = new YAMLSeq();
    seq.items = value.map(node);
    if (value.length === 0) seq.flow = true;
    return seq;
  }
  const map = new YAMLMap();
  map.items = Object.entries(value).map(([k, v]) => new Pair(stringNode(k), node(v)));
  if (map.items.length === 0) map.flow = true;
  return map;
}

/**
 * The document as YAML text, ending in a newline, written by the `yaml` library: block style, two
 * spaces, keys in the order given, no line folding; each string plain or double-quoted as above.
 * (The validator refuses strings go-yaml cannot read: control characters, DEL, U+FFFE, surrogates.)
 */
export function emitYaml(document: { [key: string]: YamlValue }): string {
  const doc = new Document();
  doc.contents = node(document) as never;
  return doc.toString({
    indent: 2,
    indentSeq: true,
    lineWidth: 0,
    minContentWidth: 0,
    doubleQuotedAsJSON: true,
    flowCollectionPadding: false,
  });
}

/** The plain JSON-like value a YAML reader returns for `value` (Quoted unwrapped). */
export function plainValue(value: YamlValue): unknown {
  if (value instanceof Quoted) return value.value;
  if (Array.isArray(value)) return value.map(plainValue);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainValue(v)]));
  return value;
}
