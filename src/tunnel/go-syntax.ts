/** Go's and go-yaml's syntax, as cloudflared (a Go program) reads its config: regexps, characters, hosts. */

import { RE2JS } from 're2js';

/**
 * Go's regexp (RE2) syntax, checked by re2js (a JavaScript port of RE2 following Go's regexp/syntax:
 * the same escapes, classes, flags, repeat limit of 1000 and nesting limit). Undefined when Go's
 * regexp.Compile would accept the pattern.
 */
export function re2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
  } catch (error) {
    const message = ((error as Error).message || String(error)).replace(/^error parsing regexp: /, '').slice(0, 200);
    if (/`\(\?<?[=!]/.test(message)) return `look-around ((?=, (?!, (?<=, (?<!) is not supported by Go regular expressions (${message})`;
    if (/invalid escape sequence: `\\([1-9]|k)/.test(message))
      return `back-references are not supported by Go regular expressions (${message})`;
    return message;
  }
  return undefined;
}

/**
 * Characters go-yaml (yaml.v3) refuses in a document ("control characters are not allowed") or that
 * no config value needs: C0 controls (tab and line feed only where `multiline`), DEL, C1 controls,
 * U+FFFE/U+FFFF and lone surrogates.
 */
export function unsafeCharacter(text: string, multiline = false): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `a lone surrogate U+${c.toString(16).toUpperCase()}`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `a lone surrogate U+${c.toString(16).toUpperCase()}`;
    if (multiline && (c === 0x09 || c === 0x0a)) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0xfffe || c === 0xffff)
      return `the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return undefined;
}

/** Go's int (64 bits), kept to what a JavaScript number holds exactly. */
export const MAX_GO_INT = Number.MAX_SAFE_INTEGER;

/** Does a rule for `outer` match every request for `inner`? ('' and '*' match any host.) */
export function hostCovers(outer: string, inner: string): boolean {
  if (outer === '' || outer === '*') return true;
  if (outer === inner) return true;
  return outer.startsWith('*.') && inner !== '' && inner !== '*' && inner.endsWith(outer.slice(1));
}

/** Does Go's net.SplitHostPort accept it (which is how cloudflared spots a port in a hostname)? */
export function goSplitsHostPort(text: string): boolean {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return false;
  if (text.startsWith('[')) return text.indexOf(']') === colon - 1;
  return !text.slice(0, colon).includes(':') && !text.includes('[') && !text.includes(']');
}
