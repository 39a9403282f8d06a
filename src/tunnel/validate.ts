/**
 * Checks a cloudflared config the way cloudflared reads it — on the parsed YAML document, so the
 * generator's own output and the operator's extra rules go through the same gate — and adds
 * stricter rules (in RULES) where cloudflared is silently lenient. Pure: the one outside
 * fact it needs (does a caPool file exist) comes in as a function.
 *
 * Each issue names its rule (see RULES), where in the document it is, and, through `sourceOf`, the
 * variable to change. Issues come in the order cloudflared would meet them, so the first one is
 * the error cloudflared itself would print (when it prints one at all).
 */
import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import { ORIGIN_REQUEST_KEYS, RULE_KEYS } from './generate';
import { RE2JS } from 're2js';
import { isDnsName, isIPv4, isIPv6, parseGoDurationNs, parseServiceUrl, splitHostPort } from '../config/syntax';

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

const TOP_LEVEL_KEYS = [
  'tunnel',
  'credentials-file',
  'credentials-contents',
  'ingress',
  'originRequest',
  'warp-routing',
  'loglevel',
  'transport-loglevel',
  'metrics',
  'no-autoupdate',
  'protocol',
  'grace-period',
];
const HTTP_SCHEMES = ['http', 'https', 'ws', 'wss'];
const TCP_SCHEMES = ['tcp', 'ssh', 'rdp', 'smb'];
const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];
const DURATION_KEYS = ['connectTimeout', 'tlsTimeout', 'tcpKeepAlive', 'keepAliveTimeout'];
const BOOLEAN_KEYS = ['noHappyEyeballs', 'noTLSVerify', 'disableChunkedEncoding', 'http2Origin', 'bastionMode', 'matchSNItoHost'];
const STRING_KEYS = ['httpHostHeader', 'originServerName', 'caPool', 'proxyAddress', 'proxyType'];
const INTEGER_KEYS = ['keepAliveConnections', 'proxyPort'];
/** What a TCP stream (tcp://, ssh://, ...) uses of originRequest. */
const TCP_KEYS = ['connectTimeout', 'tcpKeepAlive', 'noHappyEyeballs', 'proxyType', 'ipRules', 'bastionMode', 'access'];

type ServiceKind = 'http' | 'tcp' | 'status' | 'unix' | 'builtin' | 'invalid';

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

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
const MAX_GO_INT = Number.MAX_SAFE_INTEGER;

/** Does a rule for `outer` match every request for `inner`? ('' and '*' match any host.) */
function hostCovers(outer: string, inner: string): boolean {
  if (outer === '' || outer === '*') return true;
  if (outer === inner) return true;
  return outer.startsWith('*.') && inner !== '' && inner !== '*' && inner.endsWith(outer.slice(1));
}

/** Does Go's net.SplitHostPort accept it (which is how cloudflared spots a port in a hostname)? */
function goSplitsHostPort(text: string): boolean {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return false;
  if (text.startsWith('[')) return text.indexOf(']') === colon - 1;
  return !text.slice(0, colon).includes(':') && !text.includes('[') && !text.includes(']');
}

class Checker {
  readonly issues: TunnelIssue[] = [];

  constructor(private readonly options: ValidateOptions) {}

  add(rule: RuleId, path: string, message: string): void {
    const variable = this.options.sourceOf?.(path);
    this.issues.push(variable === undefined ? { rule, path, message } : { rule, path, message, variable });
  }

  /** Every key and string in the document, before anything else: go-yaml stops at the first. */
  characters(value: unknown, at: string): void {
    if (typeof value === 'string') {
      const bad = unsafeCharacter(value, at === 'credentials-contents');
      if (bad) this.add('yaml-characters', at, `${at || 'a value'} contains ${bad}; cloudflared's YAML reader refuses it (remove it)`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => this.characters(v, `${at}[${i}]`));
    } else if (isMapping(value)) {
      for (const [key, v] of Object.entries(value)) {
        const path = at ? `${at}.${key}` : key;
        const bad = unsafeCharacter(key);
        if (bad) this.add('yaml-characters', path, `a key contains ${bad}; cloudflared's YAML reader refuses it`);
        this.characters(v, path);
      }
    }
  }

  document(doc: unknown): void {
    this.characters(doc, '');
    if (!isMapping(doc)) {
      this.add(
        'document-mapping',
        '',
        `expected a mapping of top-level keys, got ${doc === null || doc === undefined ? 'an empty document' : show(doc)}`,
      );
      return;
    }
    const hasIngress = 'ingress' in doc;
    for (const key of Object.keys(doc)) {
      if (['url', 'hello-world', 'bastion'].includes(key) && hasIngress) {
        this.add('top-level-conflict', key, `"${key}" at top level cannot be used together with ingress rules: move it into a rule`);
      } else if (!TOP_LEVEL_KEYS.includes(key)) {
        this.add(
          'top-level-unknown-key',
          key,
          `unknown top-level key "${key}" (cloudflared would ignore it); known keys: ${TOP_LEVEL_KEYS.join(', ')}`,
        );
      }
    }

    if (typeof doc.tunnel !== 'string' || doc.tunnel.trim() === '') {
      this.add('tunnel-id', 'tunnel', `tunnel must be the tunnel's UUID or name, got ${show(doc.tunnel)}`);
    }
    const hasFile = 'credentials-file' in doc;
    const hasContents = 'credentials-contents' in doc;
    if (hasFile === hasContents) {
      this.add(
        'credentials',
        hasFile ? 'credentials-contents' : 'credentials-file',
        hasFile ? 'set credentials-file or credentials-contents, not both' : "credentials-file (the tunnel's <TunnelID>.json) is required",
      );
    } else if (hasFile) {
      const file = doc['credentials-file'];
      if (typeof file !== 'string' || file === '')
        this.add('credentials', 'credentials-file', `credentials-file must be a path, got ${show(file)}`);
      else if (!file.startsWith('/'))
        this.add('credentials-path-absolute', 'credentials-file', `credentials-file must be an absolute path, got ${show(file)}`);
    } else if (typeof doc['credentials-contents'] !== 'string') {
      this.add('credentials', 'credentials-contents', 'credentials-contents must be the credentials JSON as a string');
    }

    if ('metrics' in doc) {
      if (typeof doc.metrics !== 'string')
        this.add('metrics-address', 'metrics', `metrics must be a "host:port" string, got ${show(doc.metrics)}`);
      else if (!splitHostPort(doc.metrics))
        this.add('metrics-address', 'metrics', `metrics must be host:port such as "127.0.0.1:20241", got ${show(doc.metrics)}`);
    }
    if ('no-autoupdate' in doc) this.boolean(doc['no-autoupdate'], 'no-autoupdate');
    for (const key of ['loglevel', 'transport-loglevel']) {
      if (key in doc && !LOG_LEVELS.includes(doc[key] as string))
        this.add('enum-value', key, `${key} must be one of ${LOG_LEVELS.join(', ')}, got ${show(doc[key])}`);
    }
    if ('protocol' in doc && !['auto', 'http2', 'quic'].includes(doc.protocol as string)) {
      this.add('enum-value', 'protocol', `protocol must be auto, http2 or quic, got ${show(doc.protocol)}`);
    }
    if ('grace-period' in doc) this.duration(doc['grace-period'], 'grace-period');
    if ('warp-routing' in doc) {
      const warp = doc['warp-routing'];
      if (!isMapping(warp))
        this.add('value-type', 'warp-routing', `warp-routing must be a mapping such as {enabled: true}, got ${show(warp)}`);
      else if ('enabled' in warp) this.boolean(warp.enabled, 'warp-routing.enabled');
    }
    if ('originRequest' in doc) this.originRequest(doc.originRequest, 'originRequest', 'any');
    this.ingress(doc.ingress);
  }

  ingress(ingress: unknown): void {
    if (!Array.isArray(ingress) || ingress.length === 0) {
      this.add('ingress-required', 'ingress', "The config file doesn't contain any ingress rules: ingress must be a non-empty list");
      return;
    }
    const seen: { hostname: string; path?: string; index: number }[] = [];
    ingress.forEach((rule, i) => {
      const at = `ingress[${i}]`;
      if (!isMapping(rule)) {
        this.add('rule-mapping', at, `rule #${i + 1} must be a mapping with hostname, path, service, got ${show(rule)}`);
        return;
      }
      for (const key of Object.keys(rule)) {
        if (!(RULE_KEYS as readonly string[]).includes(key))
          this.add(
            'rule-unknown-key',
            `${at}.${key}`,
            `rule #${i + 1} has an unknown key "${key}"; a rule has only ${RULE_KEYS.join(', ')}`,
          );
      }
      // cloudflared's order: service, then access, then hostname and catch-all, then path.
      const kind = this.service(rule.service, `${at}.service`);
      if ('originRequest' in rule) this.originRequest(rule.originRequest, `${at}.originRequest`, kind);

      const hostname = rule.hostname === undefined || rule.hostname === null ? '' : rule.hostname;
      const path = rule.path === undefined || rule.path === null ? '' : rule.path;
      if (typeof hostname !== 'string') this.add('value-type', `${at}.hostname`, `hostname must be a string, got ${show(hostname)}`);
      if (typeof path !== 'string') this.add('value-type', `${at}.path`, `path must be a string, got ${show(path)}`);
      if (typeof hostname !== 'string' || typeof path !== 'string') return;

      this.hostname(hostname, `${at}.hostname`);
      const catchAll = (hostname === '' || hostname === '*') && path === '';
      const last = i === ingress.length - 1;
      if (last && !catchAll) {
        this.add(
          'last-rule-catch-all',
          at,
          `The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter): add a final rule such as "service: http_status:404"${path !== '' ? ` (rule #${i + 1} has path ${show(path)}, so it is not a catch-all)` : ''}`,
        );
      }
      if (!last && catchAll) {
        this.add(
          'catch-all-not-last',
          at,
          `rule #${i + 1} matches all URLs, so the rules after it would never be triggered: give it a hostname or path, or move it last`,
        );
      }
      if (path !== '') {
        const problem = re2Problem(path);
        if (problem) this.add('path-regex', `${at}.path`, `rule #${i + 1} has an invalid path regex ${show(path)}: ${problem}`);
        else if (!path.startsWith('^')) {
          this.add(
            'path-anchored',
            `${at}.path`,
            `path ${show(path)} matches anywhere in the request path, not only at its start (/graphql also matches /api/graphql-old): anchor it as "^${path}"`,
          );
        }
      }

      // A rule is dead when an earlier one matches every request it matches: a host the earlier
      // one covers (any host, the same host, or under its wildcard) and a path it covers (none, or
      // the same). The catch-all rules are reported above.
      if (!catchAll) {
        for (const earlier of seen) {
          const named = hostname !== '' && hostname !== '*';
          if (named && earlier.hostname === hostname && (earlier.path === undefined || path === '' || earlier.path === path)) {
            this.add(
              'hostname-duplicate',
              `${at}.hostname`,
              `hostname ${show(hostname)} is already routed by rule #${earlier.index + 1}; ${earlier.path === undefined || earlier.path === path ? 'this rule would never be triggered' : 'give each rule for it a distinct path'}`,
            );
            break;
          }
          if (!hostCovers(earlier.hostname, hostname) || !(earlier.path === undefined || earlier.path === path)) continue;
          {
            const what = `${earlier.hostname === '' || earlier.hostname === '*' ? 'any host' : earlier.hostname}, ${earlier.path === undefined ? 'any path' : `path ${show(earlier.path)}`}`;
            this.add(
              'rule-shadowed',
              at,
              `rule #${earlier.index + 1} (${what}) already matches every request of rule #${i + 1}, so it would never be triggered: move it before that rule`,
            );
          }
          break;
        }
        seen.push({ hostname, path: path === '' ? undefined : path, index: i });
      }
    });
  }

  service(service: unknown, at: string): ServiceKind {
    if (typeof service !== 'string' || service === '') {
      this.add(
        'service-address',
        at,
        `service is required: a URL such as http://127.0.0.1:4000 or tcp://127.0.0.1:5432, or http_status:404; got ${show(service ?? '')}`,
      );
      return 'invalid';
    }
    if (service.startsWith('http_status:')) {
      const code = service.slice('http_status:'.length);
      if (!/^\d+$/.test(code) || Number(code) < 100 || Number(code) > 999) {
        this.add(
          'service-http-status',
          at,
          `${show(service)}: invalid HTTP status code, expected http_status:NNN with NNN from 100 to 999`,
        );
        return 'invalid';
      }
      return 'status';
    }
    for (const prefix of ['unix+tls:', 'unix:']) {
      if (service.startsWith(prefix)) {
        if (!service.slice(prefix.length).startsWith('/'))
          this.add('service-unix-path', at, `${show(service)}: expected ${prefix}/absolute/path/to/socket`);
        return 'unix';
      }
    }
    if (['hello_world', 'hello-world', 'bastion', 'socks-proxy'].includes(service)) return 'builtin';

    const parsed = parseServiceUrl(service);
    if (parsed === 'no-scheme-or-host') {
      const example = service.includes('://') ? 'http://127.0.0.1:4000' : `http://${service}`;
      this.add(
        'service-address',
        at,
        `${show(service)} is an invalid address, please make sure it has a scheme and a hostname (e.g. ${example})`,
      );
      return 'invalid';
    }
    if (parsed === 'path') {
      this.add(
        'service-path',
        at,
        `${show(service)} is an invalid address, ingress rules don't support proxying to a different path on the origin service: remove the path (even a trailing /)`,
      );
      return 'invalid';
    }
    if (parsed === 'userinfo') {
      this.add(
        'service-userinfo',
        at,
        'the service URL must not carry a user:password (it would sit in the config file); the origin authenticates its clients itself',
      );
      return 'invalid';
    }
    if (parsed === 'query') {
      this.add('service-query', at, `${show(service)}: a service URL has no query string or fragment (cloudflared ignores them)`);
      return 'invalid';
    }
    if (parsed === 'bad-host' || parsed === 'bad-port') {
      this.add(
        'service-host',
        at,
        `${show(service)}: ${parsed === 'bad-host' ? 'not a valid host name or IP address' : 'the port must be from 1 to 65535'}`,
      );
      return 'invalid';
    }
    if (HTTP_SCHEMES.includes(parsed.scheme)) return 'http';
    if (!TCP_SCHEMES.includes(parsed.scheme)) {
      this.add(
        'service-scheme',
        at,
        `${show(service)}: unknown scheme "${parsed.scheme}://"; for a database or any TCP origin use tcp://${parsed.host}${parsed.port ? `:${parsed.port}` : ''} (clients connect with \`cloudflared access tcp\`)`,
      );
      return 'invalid';
    }
    if (parsed.port === undefined) {
      this.add(
        'service-tcp-port',
        at,
        `${show(service)}: a TCP service needs a port (cloudflared would dial port 7864), e.g. ${service}:5432`,
      );
      return 'invalid';
    }
    return 'tcp';
  }

  hostname(hostname: string, at: string): void {
    if (hostname === '' || hostname === '*') return;
    if (goSplitsHostPort(hostname) || hostname.includes(':')) {
      this.add(
        'hostname-port',
        at,
        `Hostname cannot contain a port (nor a scheme): write the bare name such as graphql.example.com, got ${show(hostname)}`,
      );
      return;
    }
    if (hostname.lastIndexOf('*') > 0) {
      this.add(
        'hostname-wildcard',
        at,
        `Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"; got ${show(hostname)}`,
      );
      return;
    }
    if (hostname.startsWith('*') && !hostname.startsWith('*.')) {
      this.add('hostname-wildcard', at, `${show(hostname)} never matches a subdomain: write "*.${hostname.slice(1)}"`);
      return;
    }
    const name = hostname.startsWith('*.') ? hostname.slice(2) : hostname;
    if (name.includes('/')) this.add('hostname-syntax', at, `a hostname cannot contain "/" (paths go in path:), got ${show(hostname)}`);
    else if (name !== name.toLowerCase())
      this.add('hostname-syntax', at, `write the hostname in lowercase: ${show(hostname.toLowerCase())}`);
    else if (!isDnsName(name))
      this.add(
        'hostname-syntax',
        at,
        `${show(hostname)} is not a DNS name such as graphql.example.com (letters, digits, hyphens, at least two labels)`,
      );
  }

  originRequest(value: unknown, at: string, kind: ServiceKind | 'any'): void {
    if (!isMapping(value)) {
      this.add('value-type', at, `originRequest must be a mapping, got ${show(value)}`);
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      const path = `${at}.${key}`;
      if (!(ORIGIN_REQUEST_KEYS as readonly string[]).includes(key)) {
        this.add(
          'origin-request-unknown-key',
          path,
          `unknown originRequest key "${key}" (cloudflared would ignore it); known keys: ${ORIGIN_REQUEST_KEYS.join(', ')}`,
        );
        continue;
      }
      if (kind === 'tcp' && !TCP_KEYS.includes(key)) {
        this.add(
          'tcp-http-only-key',
          path,
          `"${key}" does nothing on a TCP service; set only connectTimeout and tcpKeepAlive on this rule`,
        );
      }
      if (DURATION_KEYS.includes(key)) this.duration(v, path);
      else if (BOOLEAN_KEYS.includes(key)) this.boolean(v, path);
      else if (INTEGER_KEYS.includes(key)) {
        if (!Number.isInteger(v) || (v as number) < 0) this.add('value-type', path, `${key} must be a whole number, got ${show(v)}`);
        else if ((v as number) > MAX_GO_INT) this.add('integer-range', path, `${key} must be at most ${MAX_GO_INT}, got ${show(v)}`);
        else if (key === 'proxyPort' && (v as number) > 65535)
          this.add('value-type', path, `proxyPort must be a port from 0 to 65535, got ${show(v)}`);
      } else if (STRING_KEYS.includes(key)) {
        if (typeof v !== 'string') this.add('value-type', path, `${key} must be a string, got ${show(v)}`);
        else if (key === 'proxyType' && !['', 'socks'].includes(v))
          this.add('enum-value', path, `proxyType must be "" or "socks", got ${show(v)}`);
        else if (key === 'caPool' && this.options.fileExists && !this.options.fileExists(v))
          this.add('ca-pool-missing', path, `caPool file ${show(v)} does not exist`);
      } else if (key === 'ipRules') {
        this.ipRules(v, path);
      } else if (key === 'access') {
        this.access(v, path);
      }
    }
  }

  ipRules(value: unknown, at: string): void {
    if (!Array.isArray(value)) {
      this.add('ip-rule', at, 'ipRules must be a list of {prefix: "10.0.0.0/8", ports: [80], allow: true}');
      return;
    }
    value.forEach((rule, i) => {
      const path = `${at}[${i}]`;
      if (!isMapping(rule))
        return this.add('ip-rule', path, `an ipRules entry must be a mapping {prefix, ports, allow}, got ${show(rule)}`);
      for (const key of Object.keys(rule)) {
        if (!['prefix', 'ports', 'allow'].includes(key))
          this.add('ip-rule', `${path}.${key}`, `unknown ipRules key "${key}"; known keys: prefix, ports, allow`);
      }
      const prefix = rule.prefix;
      const match = typeof prefix === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(prefix) : null;
      const v4 = match !== null && isIPv4(match[1]);
      const v6 = match !== null && isIPv6(match[1]);
      if (!match || !(v4 || v6) || Number(match[2]) > (v4 ? 32 : 128)) {
        this.add(
          'ip-rule',
          `${path}.prefix`,
          `prefix must be a CIDR such as 10.0.0.0/8 (/0 to /32) or fd00::/8 (/0 to /128), got ${show(prefix)}`,
        );
      }
      if ('ports' in rule && (!Array.isArray(rule.ports) || !rule.ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535))) {
        this.add('ip-rule', `${path}.ports`, `ports must be a list of ports from 1 to 65535, got ${show(rule.ports)}`);
      }
      if ('allow' in rule) this.boolean(rule.allow, `${path}.allow`);
    });
  }

  access(value: unknown, at: string): void {
    if (!isMapping(value)) {
      this.add('value-type', at, `access must be a mapping {required, teamName, audTag}, got ${show(value)}`);
      return;
    }
    for (const key of Object.keys(value)) {
      if (!['required', 'teamName', 'audTag'].includes(key))
        this.add(
          'access-unknown-key',
          `${at}.${key}`,
          `unknown access key "${key}" (cloudflared would ignore it); known keys: required, teamName, audTag`,
        );
    }
    if ('required' in value) this.boolean(value.required, `${at}.required`);
    if ('teamName' in value && typeof value.teamName !== 'string')
      this.add('value-type', `${at}.teamName`, `teamName must be a string, got ${show(value.teamName)}`);
    if ('audTag' in value && (!Array.isArray(value.audTag) || !value.audTag.every((t) => typeof t === 'string'))) {
      this.add('value-type', `${at}.audTag`, `audTag must be a list of strings, got ${show(value.audTag)}`);
      return;
    }
    const audTags = Array.isArray(value.audTag) ? value.audTag : [];
    if (value.required === true && (typeof value.teamName !== 'string' || value.teamName === '' || audTags.length === 0)) {
      this.add(
        'access-team-name',
        at,
        `access with required: true needs teamName (your Zero Trust team name) and audTag (the application's AUD tags)${audTags.length > 0 ? ': teamName is missing' : ''}`,
      );
    }
  }

  duration(value: unknown, at: string): void {
    if (typeof value !== 'string') {
      this.add(
        'duration',
        at,
        `expected a duration string with a unit such as 30s or 1m30s, got ${show(value)}${typeof value === 'number' ? ` (write "${value}s")` : ''}`,
      );
      return;
    }
    const ns = parseGoDurationNs(value);
    if (ns === undefined)
      this.add(
        'duration',
        at,
        `${show(value)} is not a duration Go can hold: write it with a unit such as 30s, 1m30s or 500ms, at most 2562047h47m16.854775807s`,
      );
    else if (ns <= 0n)
      this.add(
        'duration-positive',
        at,
        `${show(value)}: a duration must be greater than zero${value.startsWith('-') ? '' : ' (Go rounds it down to 0ns)'}`,
      );
  }

  boolean(value: unknown, at: string): void {
    if (typeof value !== 'boolean') this.add('value-type', at, `expected true or false (unquoted), got ${show(value)}`);
  }
}

/** Validates a parsed cloudflared config document. Empty array = cloudflared would print OK. */
export function validateTunnelDocument(doc: unknown, options: ValidateOptions = {}): TunnelIssue[] {
  const checker = new Checker(options);
  checker.document(doc);
  return checker.issues;
}

/**
 * Parses YAML text as cloudflared would (duplicate keys are errors) and validates it. When
 * `expected` is given, also checks that the text reads back as exactly that document, under both
 * YAML 1.2 and YAML 1.1 resolution (go-yaml reads `on`, `yes`, `0777` the 1.1 way in places).
 */
export function validateTunnelYaml(text: string, options: ValidateOptions & { expected?: unknown } = {}): TunnelIssue[] {
  const readings: unknown[] = [];
  for (const version of ['1.2', '1.1'] as const) {
    const document = parseDocument(text, { version, uniqueKeys: true, prettyErrors: false });
    if (document.errors.length > 0) {
      return [{ rule: 'yaml-syntax', path: '', message: `not valid YAML: ${document.errors[0].message.split('\n')[0]}` }];
    }
    readings.push(document.toJS());
  }
  if (options.expected !== undefined && !readings.every((reading) => isDeepStrictEqual(reading, options.expected))) {
    return [
      {
        rule: 'yaml-roundtrip',
        path: '',
        message: 'the generated text does not read back as the generated document (a value needs quoting): report this as a bug',
      },
    ];
  }
  return validateTunnelDocument(readings[0], options);
}

/** One line per issue: `VARIABLE: where: what [rule]`. */
export function formatIssues(issues: TunnelIssue[]): string {
  return issues.map((i) => `${i.variable ? `${i.variable}: ` : ''}${i.path ? `${i.path}: ` : ''}${i.message} [rule ${i.rule}]`).join('\n');
}
