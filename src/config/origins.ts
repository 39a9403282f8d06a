import type { Reader } from './reader';
import { ConfigError } from './variable';

/** A comma-separated list of browser origins (scheme://host[:port], no path), normalised without a trailing slash. */
export function originList(r: Reader, name: Parameters<Reader['text']>[0]): string[] {
  const origins = (r.text(name) ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError(name, `"${origin}" is not an origin: give scheme://host[:port], comma-separated`);
    }
    if (parsed.origin !== origin.replace(/\/$/, ''))
      throw new ConfigError(name, `"${origin}" is not an origin: give scheme://host[:port] without a path`);
  }
  return origins.map((o) => o.replace(/\/$/, ''));
}
