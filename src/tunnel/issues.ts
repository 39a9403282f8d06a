/** What the validator reports: the rules it checks, and each issue found (validate.ts). */

/** Every rule, with whether cloudflared itself refuses a file that breaks it (`cloudflared`) or we do. */
export const RULES = {
  'yaml-syntax': { by: 'cloudflared', text: 'the file must be well-formed YAML without duplicate keys' },
  'yaml-roundtrip': { by: 'gateway', text: 'the written text must read back as exactly the generated document' },
  'document-mapping': { by: 'cloudflared', text: 'the document is a mapping of top-level keys' },
  'top-level-conflict': { by: 'cloudflared', text: 'url, hello-world and bastion cannot appear at top level together with ingress' },
  'top-level-unknown-key': { by: 'gateway', text: 'only known top-level keys (cloudflared ignores typos such as credential-file)' },
  'tunnel-id': { by: 'cloudflared', text: 'tunnel is the tunnel UUID or name, a string' },
  credentials: { by: 'cloudflared', text: 'exactly one of credentials-file or credentials-contents' },
  'credentials-path-absolute': {
    by: 'gateway',
    text: 'credentials-file is an absolute path (cloudflared resolves a relative one against its own working directory)',
  },
  'metrics-address': { by: 'cloudflared', text: 'metrics is a host:port string, never a number' },
  'value-type': { by: 'cloudflared', text: 'booleans are plain true/false, integers are numbers, strings are strings' },
  'enum-value': { by: 'cloudflared', text: 'loglevel, protocol and proxyType take one of their listed values' },
  duration: { by: 'cloudflared', text: 'durations are Go duration strings with units: 30s, 1m30s, 500ms' },
  'duration-positive': {
    by: 'gateway',
    text: 'durations are greater than zero once Go rounds them to nanoseconds (cloudflared accepts a negative one silently; 0.1ns is 0)',
  },
  'ingress-required': { by: 'cloudflared', text: 'ingress is a non-empty list of rules' },
  'rule-mapping': { by: 'cloudflared', text: 'each ingress rule is a mapping' },
  'rule-unknown-key': { by: 'gateway', text: 'a rule has only hostname, path, service and originRequest' },
  'service-address': { by: 'cloudflared', text: 'a URL service has a scheme and a hostname (http://127.0.0.1:4000)' },
  'service-path': { by: 'cloudflared', text: 'a service URL has no path, not even a trailing /' },
  'service-http-status': { by: 'cloudflared', text: 'http_status:NNN takes a status code from 100 to 999' },
  'service-unix-path': { by: 'cloudflared', text: 'unix: and unix+tls: take an absolute socket path' },
  'service-scheme': {
    by: 'gateway',
    text: 'a URL service uses http, https, ws, wss, tcp, ssh, rdp or smb (postgresql:// works only by accident: use tcp://)',
  },
  'service-tcp-port': { by: 'gateway', text: 'a TCP service names its port (cloudflared assumes 7864 when dialing)' },
  'service-userinfo': { by: 'gateway', text: 'a service URL carries no user:password' },
  'service-query': { by: 'gateway', text: 'a service URL carries no query string or fragment' },
  'service-host': { by: 'gateway', text: 'a service URL names a valid host and port' },
  'access-team-name': { by: 'cloudflared', text: 'originRequest.access with required: true needs both teamName and audTag' },
  'hostname-port': { by: 'cloudflared', text: 'a hostname has no port and no scheme' },
  'hostname-wildcard': {
    by: 'cloudflared',
    text: 'at most one *, and only as a leading *. (cloudflared takes *example.com but it never matches)',
  },
  'hostname-syntax': { by: 'gateway', text: 'a hostname is a lowercase DNS name with at least two labels, no / and no spaces' },
  'last-rule-catch-all': { by: 'cloudflared', text: 'the last rule matches all URLs: no hostname (or *) and no path' },
  'catch-all-not-last': { by: 'cloudflared', text: 'only the last rule may match all URLs; rules after it are never triggered' },
  'path-regex': { by: 'cloudflared', text: 'path is a Go RE2 regular expression (no look-around, no back-references)' },
  'path-anchored': { by: 'gateway', text: 'path starts with ^ (unanchored, /graphql also matches /api/graphql-old)' },
  'hostname-duplicate': { by: 'gateway', text: 'a hostname appears in one rule, or in several rules each with its own path' },
  'rule-shadowed': {
    by: 'gateway',
    text: 'no rule is made dead by an earlier one that matches all its requests (any host, a wildcard, or the same path)',
  },
  'origin-request-unknown-key': { by: 'gateway', text: 'originRequest has only the keys cloudflared knows (it ignores typos)' },
  'tcp-http-only-key': {
    by: 'gateway',
    text: 'a TCP service rule sets only connectTimeout and tcpKeepAlive (the others are ignored there)',
  },
  'ca-pool-missing': { by: 'gateway', text: 'caPool names a PEM file that exists (cloudflared loads it only when the tunnel runs)' },
  'yaml-characters': {
    by: 'cloudflared',
    text: 'no control characters, DEL, U+FFFE/U+FFFF or lone surrogates in any key or string (yaml: control characters are not allowed)',
  },
  'integer-range': { by: 'cloudflared', text: "integers fit Go's int (we keep them within 2^53)" },
  'access-unknown-key': { by: 'gateway', text: 'access has only required, teamName and audTag (cloudflared ignores typos)' },
  'ip-rule': {
    by: 'gateway',
    text: 'an ipRules entry is {prefix: CIDR /0-/32 or /0-/128, ports: 1-65535, allow: boolean} and nothing else',
  },
} as const;

export type RuleId = keyof typeof RULES;

export interface TunnelIssue {
  rule: RuleId;
  /** Where in the document: `ingress[1].service`, `originRequest.connectTimeout`, ... */
  path: string;
  message: string;
  /** The variable to change, when the document was generated from the environment. */
  variable?: string;
}

export interface ValidateOptions {
  /** Maps a document path to the variable it came from (`sourceOf(plan)` from generate.ts). */
  sourceOf?: (path: string) => string | undefined;
  /** Checks that a file exists (for caPool); without it, caPool paths are not checked. */
  fileExists?: (path: string) => boolean;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function show(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

/** Collects issues, each with the variable to change when the document came from the environment. */
export class IssueCollector {
  readonly issues: TunnelIssue[] = [];

  constructor(protected readonly options: ValidateOptions) {}

  add(rule: RuleId, path: string, message: string): void {
    const variable = this.options.sourceOf?.(path);
    this.issues.push(variable === undefined ? { rule, path, message } : { rule, path, message, variable });
  }
}
