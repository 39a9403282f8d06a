/**
 * The small grammars a cloudflared config is made of (Go durations, DNS names, host:port, origin
 * service URLs), shared by the environment parser and the validator so both accept exactly the same.
 */

const DURATION_UNITS_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const DURATION = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const DURATION_PART = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g;
/** time.Duration is an int64 of nanoseconds. */
export const MAX_DURATION_NS = 9_223_372_036_854_775_807n;
const OVERFLOW = 1n << 63n;

/**
 * Go's `time.ParseDuration`, which cloudflared applies to every duration: `30s`, `1m30s`, `1.5s`,
 * `2h`, `300ms`, or a lone `0`. Returns nanoseconds, or undefined when Go would refuse the text
 * (a bare number such as `30`, a unit Go does not know such as `1d`, spaces, an overflow). Exact,
 * as Go computes it: integers in 64 bits, a fraction through float64 and truncated (`0.1ns` is 0).
 */
export function parseGoDurationNs(text: string): bigint | undefined {
  if (/^[-+]?0$/.test(text)) return 0n;
  if (!DURATION.test(text)) return undefined;
  let total = 0n;
  for (const [, whole, fraction = '', unitName] of text.matchAll(DURATION_PART)) {
    const unit = DURATION_UNITS_NS[unitName];
    let v = BigInt(whole === '' ? '0' : whole);
    if (v >= OVERFLOW) return undefined; // Go's leadingInt overflows
    if (v > OVERFLOW / unit) return undefined;
    v *= unit;
    // leadingFraction: digits accumulate until the value would overflow; the rest only scale.
    let f = 0n;
    let scale = 1;
    let overflowed = false;
    for (const digit of fraction) {
      if (overflowed) continue;
      if (f > (OVERFLOW - 1n) / 10n) {
        overflowed = true;
        continue;
      }
      const next = f * 10n + BigInt(digit);
      if (next >= OVERFLOW) {
        overflowed = true;
        continue;
      }
      f = next;
      scale *= 10;
    }
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > OVERFLOW) return undefined;
    }
    total += v;
    if (total > OVERFLOW) return undefined;
  }
  if (text.startsWith('-')) return -total;
  return total > MAX_DURATION_NS ? undefined : total;
}

/** `parseGoDurationNs` as a number (nanoseconds; precise enough for comparisons with zero). */
export function parseGoDuration(text: string): number | undefined {
  const ns = parseGoDurationNs(text);
  return ns === undefined ? undefined : Number(ns);
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** One DNS label as Cloudflare serves it: lowercase letters, digits and inner hyphens, 1–63 long. */
export function isDnsLabel(text: string): boolean {
  return LABEL.test(text);
}

/** A fully qualified DNS name of at least two labels (`example.com`), lowercase, no trailing dot. */
export function isDnsName(text: string): boolean {
  const labels = text.split('.');
  return text.length <= 253 && labels.length >= 2 && labels.every(isDnsLabel) && !/^\d+$/.test(labels[labels.length - 1]);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** An IPv6 address (without brackets): hex groups and at most one `::`, optionally an IPv4 tail. */
export function isIPv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  let count = groups.length;
  const last = groups[groups.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last) || !text.endsWith(last)) return false;
    groups.pop();
    count += 1; // an IPv4 tail stands for two groups
  }
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? count < 8 : count === 8;
}

/** A host an origin or a listener can name: a DNS name, `localhost` (any single label), IPv4, or `[IPv6]`. */
export function isHost(text: string): boolean {
  if (text.startsWith('[') && text.endsWith(']')) return isIPv6(text.slice(1, -1));
  return isIPv4(text) || isDnsLabel(text) || isDnsName(text) || isOriginHostName(text);
}

/**
 * A host name an origin may have besides DNS names: labels with `_` too, as Docker Compose service
 * and container names have (`gateway_1`). Go's url.Parse and net.Dial take them, so cloudflared does.
 */
function isOriginHostName(text: string): boolean {
  return (
    text.length <= 253 &&
    text.split('.').every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label)) &&
    !/^[\d.]+$/.test(text)
  );
}

export function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/** Splits `host:port` (`[::1]:20241` for IPv6); undefined when either half is missing or malformed. */
export function splitHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]*\]|[^:[\]]+):(\d+)$/.exec(text);
  if (!match || !isHost(match[1]) || !isPort(match[2])) return undefined;
  return { host: match[1], port: Number(match[2]) };
}

/** Formats a host for a URL or a host:port: IPv6 gets brackets. */
export function hostForUrl(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

export interface ServiceUrl {
  scheme: string;
  host: string;
  port?: number;
}

export type ServiceUrlProblem = 'no-scheme-or-host' | 'path' | 'userinfo' | 'query' | 'bad-host' | 'bad-port';

/**
 * Parses an origin service URL the strict way: `scheme://host[:port]` and nothing else. cloudflared
 * (Go's url.Parse) takes more — a user:password, a query string — and then ignores or leaks it.
 */
export function parseServiceUrl(text: string): ServiceUrl | ServiceUrlProblem {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(text);
  if (!match || match[2] === '') return 'no-scheme-or-host';
  const [, scheme, authority, rest] = match;
  if (authority.includes('@')) return 'userinfo';
  if (rest.startsWith('?') || rest.startsWith('#')) return 'query';
  if (rest !== '') return rest.includes('?') || rest.includes('#') ? 'query' : 'path';
  const hostPort = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(authority);
  if (!hostPort) return 'bad-host';
  const [, host, port] = hostPort;
  if (host === '') return 'no-scheme-or-host';
  if (!isHost(host.toLowerCase())) return 'bad-host';
  if (port !== undefined && !isPort(port)) return 'bad-port';
  return { scheme: scheme.toLowerCase(), host, port: port === undefined ? undefined : Number(port) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}
