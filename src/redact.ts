import winston from 'winston';

export const REDACTED = '[REDACTED]';

/** Keys whose values never reach a log line, wherever they appear. */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|password|passwd|pass|secret|client_?secret|token|access_?token|refresh_?token|id_?token|api_?key|private_?key|credentials?|configuration|token_?hash|parameters|jwt|sql_?parameters)$/i;

/** Secrets recognisable by their shape inside any string. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[\w.~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\btmg_[\w-]{8,}/g, `tmg_${REDACTED}`],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]*/g, REDACTED], // a JWT
  [/(postgres(?:ql)?|redis|rediss):\/\/([^:@/\s]+):[^@/\s]+@/gi, `$1://$2:${REDACTED}@`],
];

/** What one of the patterns above needs somewhere in the string: most log strings have none of it. */
const MAY_HOLD_SECRET = /\b(?:bearer|basic)\s|tmg_|eyJ|:\/\//i;

export function redactString(value: string): string {
  if (!MAY_HOLD_SECRET.test(value)) return value;
  let out = value;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A copy of `value` safe to log: secret keys masked, secret-shaped strings scrubbed, Errors turned
 * into plain objects with their message, stack and own properties (so the log holds the full error),
 * cycles and excessive depth cut.
 */
export function redact(value: unknown, depth = 0, seen?: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  // Made here, not as a default: most fields of a log entry are strings and numbers.
  seen ??= new WeakSet<object>();
  if (seen.has(value)) return '[circular]';
  if (depth > 8) return '[too deep]';
  seen.add(value);
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1, seen));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  if (value instanceof Error) {
    out.name = value.name;
    out.message = redactString(value.message);
    if (value.stack) out.stack = redactString(value.stack);
    if ('cause' in value && value.cause !== undefined) out.cause = redact(value.cause, depth + 1, seen);
  }
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && v !== null && v !== undefined ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}

/** A winston format that redacts every field of a log entry (the message included) before output. */
export const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    const v = info[key];
    info[key] = SECRET_KEY.test(key) && v !== null && v !== undefined ? REDACTED : redact(v);
  }
  return info;
});
