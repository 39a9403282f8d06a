import { ORIGIN_REQUEST_KEYS } from './generate';
import { isIPv4, isIPv6, parseGoDurationNs } from '../config/syntax';
import { MAX_GO_INT } from './go-syntax';
import { IssueCollector, isMapping, show } from './issues';

const DURATION_KEYS = ['connectTimeout', 'tlsTimeout', 'tcpKeepAlive', 'keepAliveTimeout'];
const BOOLEAN_KEYS = ['noHappyEyeballs', 'noTLSVerify', 'disableChunkedEncoding', 'http2Origin', 'bastionMode', 'matchSNItoHost'];
const STRING_KEYS = ['httpHostHeader', 'originServerName', 'caPool', 'proxyAddress', 'proxyType'];
const INTEGER_KEYS = ['keepAliveConnections', 'proxyPort'];
/** What a TCP stream (tcp://, ssh://, ...) uses of originRequest. */
const TCP_KEYS = ['connectTimeout', 'tcpKeepAlive', 'noHappyEyeballs', 'proxyType', 'ipRules', 'bastionMode', 'access'];

export type ServiceKind = 'http' | 'tcp' | 'status' | 'unix' | 'builtin' | 'invalid';

/** The checks of originRequest (top level and per ingress rule): its keys, their types, ipRules and access. */
export class OriginRequestChecks extends IssueCollector {
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
