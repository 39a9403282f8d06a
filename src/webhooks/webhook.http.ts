import { createHmac, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

/**
 * Everything a webhook does on the network: which URLs it may call (SSRF rules), the signing
 * secret and signature (Standard Webhooks), and one POST to a pinned address.
 */

/** Addresses no webhook may reach unless WEBHOOK_ALLOW_PRIVATE_URLS: loopback, private, link-local (metadata), unspecified, ... */
const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique local (fd00:ec2::254, the AWS IPv6 metadata address)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv6');

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::|::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether an IP address is one a webhook must not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(address);
  if (v4 && BLOCKED.check(v4, 'ipv4')) return true;
  return BLOCKED.check(address, 'ipv6');
}

export interface UrlRules {
  allowPrivate: boolean;
  allowHttp: boolean;
}

/** Why a URL is refused, as a code (in the delivery log) and a sentence (in a BAD_USER_INPUT). */
export class RefusedUrl extends Error {
  constructor(
    readonly code: 'INVALID_URL' | 'SCHEME_NOT_ALLOWED' | 'UNRESOLVABLE' | 'REFUSED_ADDRESS',
    message: string,
  ) {
    super(message);
    this.name = 'RefusedUrl';
  }
}

/** The URL's syntax and scheme (no network). */
export function parseWebhookUrl(text: string, rules: UrlRules): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RefusedUrl('INVALID_URL', 'not an absolute URL, e.g. https://ci.example.com/hooks/taskmaster');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && rules.allowHttp))
    throw new RefusedUrl(
      'SCHEME_NOT_ALLOWED',
      rules.allowHttp ? 'must be http:// or https://' : 'must be https:// (http:// only where WEBHOOK_ALLOW_HTTP=true)',
    );
  if (url.username || url.password) throw new RefusedUrl('INVALID_URL', 'must not carry a user name or password');
  return url;
}

/**
 * The address to connect to: the host resolved now, every address it resolves to checked (a name
 * with one private address among public ones is refused), the first one returned. The caller
 * connects to exactly that address, so a DNS answer that changes between the check and the
 * connection (rebinding) cannot redirect it.
 */
export async function resolveTarget(url: URL, rules: UrlRules): Promise<{ address: string; family: number }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new RefusedUrl('UNRESOLVABLE', `the host ${host} does not resolve`);
    }
  }
  if (addresses.length === 0) throw new RefusedUrl('UNRESOLVABLE', `the host ${host} does not resolve`);
  if (!rules.allowPrivate) {
    const blocked = addresses.find((a) => isBlockedAddress(a.address));
    if (blocked)
      throw new RefusedUrl(
        'REFUSED_ADDRESS',
        `${host} resolves to ${blocked.address}, a loopback, private, link-local or reserved address (allowed only where WEBHOOK_ALLOW_PRIVATE_URLS=true)`,
      );
  }
  return addresses[0];
}

/** A new signing secret as Standard Webhooks libraries take it: whsec_ + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under each secret, space-separated (several during a rotation overlap). */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}

export interface PostOptions {
  url: URL;
  address: { address: string; family: number };
  headers: Record<string, string>;
  body: string;
  connectTimeoutMs: number;
  timeoutMs: number;
  /** A keep-alive agent for one endpoint's run of attempts (its sockets go to the address checked). */
  agent?: http.Agent;
}

export interface PostResult {
  /** The HTTP status, or null when there was no answer. */
  status: number | null;
  /** The first 1 KB of the answer (as text). */
  body: string | null;
  latencyMs: number;
  /** No answer: TIMEOUT, CONNECT_TIMEOUT, or the socket error's code. */
  error: string | null;
}

/** The answer is read up to this many bytes; the rest is discarded and the socket closed. */
const READ_CAP_BYTES = 64 * 1024;
const KEPT_BYTES = 1024;

/**
 * One POST, to the pinned address (TLS still checks the certificate against the URL's host name),
 * with a connect timeout and a total deadline; redirects are not followed (a 3xx is a failure).
 * Never throws: a failure is a result.
 */
export function post(o: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const client = o.url.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    let done = false;
    /** `keep`: the answer was read to its end, the socket may serve the next attempt (keep-alive agent). */
    const finish = (result: Omit<PostResult, 'latencyMs'>, keep = false) => {
      if (done) return;
      done = true;
      clearTimeout(total);
      clearTimeout(connect);
      if (!keep) req.destroy();
      resolve({ ...result, latencyMs: Math.round(performance.now() - started) });
    };
    const req = client.request(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(o.body)), ...o.headers },
      agent: o.agent ?? false,
      // the checked address, whatever DNS says now
      lookup: (_host, options, callback) => {
        if ((options as { all?: boolean }).all)
          (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [o.address]);
        else callback(null, o.address.address, o.address.family);
      },
    });
    const total = setTimeout(() => finish({ status: null, body: null, error: 'TIMEOUT' }), o.timeoutMs);
    const connect = setTimeout(() => finish({ status: null, body: null, error: 'CONNECT_TIMEOUT' }), o.connectTimeoutMs);
    req.on('socket', (socket) => {
      // a kept-alive socket is connected already
      if (!socket.connecting) clearTimeout(connect);
      else socket.once(o.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connect));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ status: null, body: null, error: (error.code ?? 'ERROR').slice(0, 200) }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let read = 0;
      const answer = (keep = false) =>
        finish(
          {
            status: res.statusCode ?? null,
            body: Buffer.concat(chunks).subarray(0, KEPT_BYTES).toString('utf8').replaceAll(String.fromCharCode(0), ''), // PostgreSQL text holds no NUL
            error: null,
          },
          keep,
        );
      res.on('data', (chunk: Buffer) => {
        if (read < KEPT_BYTES) chunks.push(chunk);
        read += chunk.length;
        if (read >= READ_CAP_BYTES) answer();
      });
      res.on('end', () => answer(true));
      res.on('error', () => answer());
    });
    req.end(o.body);
  });
}
