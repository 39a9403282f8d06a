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
import { RULE_KEYS } from './generate';
import { goSplitsHostPort, hostCovers, re2Problem, unsafeCharacter } from './go-syntax';
import { isMapping, show, type TunnelIssue, type ValidateOptions } from './issues';
import { OriginRequestChecks, type ServiceKind } from './origin-request';
import { isDnsName, parseServiceUrl, splitHostPort } from '../config/syntax';

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

/** The document's own sections (top level, ingress, services, hostnames); originRequest: origin-request.ts. */
class Checker extends OriginRequestChecks {
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
