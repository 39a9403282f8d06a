import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GraphQLError } from 'graphql';
import { apiError, asOutage, serviceUnavailable } from '../graphql/errors';
import type { SecurityConfig } from '../config';
import { outsideRequest } from '../request';
import { ANONYMOUS_READER, type Principal } from '../auth/principal';
import { isRole, type Role } from '../auth/roles';

/** How API tokens issued here begin (src/tokens/token.service.ts issues them). */
export const TOKEN_PREFIX = 'tmg_';

/** How an API token is stored and looked up: its SHA-256, never the token itself. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Checks an API token issued here, by its hashToken; src/tokens/token.service.ts is the one the gateway uses. */
export interface TokenVerifier {
  verify(hash: string): Promise<{ token: { id: string; name: string; role: Role } } | { refused: string }>;
}

/** A refusal before any resolver runs: HTTP 401 with a GraphQL error body. */
export function unauthenticated(message: string): GraphQLError {
  return apiError('UNAUTHENTICATED', message, { status: 401, headers: { 'www-authenticate': 'Bearer' } });
}

type JwtConfig = NonNullable<SecurityConfig['auth']['jwt']>;

/**
 * Turns an Authorization header into a principal: an API token issued here (`tmg_...`), or a JWT
 * from the configured identity provider. No header: the anonymous reader where development allows
 * it, else 401. A header that does not verify is always 401, even where anonymous reads are open.
 */
export class Authenticator {
  private readonly jwtKey?: Uint8Array | JWTVerifyGetKey;
  /** API tokens verified since start-up (by hash), for health reads while the store is unreachable. */
  private readonly lastVerified = new LRUCache<string, Principal>({ max: 10_000 });

  constructor(
    private readonly config: SecurityConfig['auth'],
    private readonly tokens: TokenVerifier,
  ) {
    const jwt = config.jwt;
    if (jwt?.secret) this.jwtKey = new TextEncoder().encode(jwt.secret);
    else if (jwt?.jwksUrl) this.jwtKey = createRemoteJWKSet(new URL(jwt.jwksUrl));
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization.trim() === '') {
      if (this.config.anonymousRead) return ANONYMOUS_READER;
      throw unauthenticated('Authentication required: send Authorization: Bearer <token>');
    }
    const match = /^Bearer\s+(\S{1,4096})\s*$/i.exec(authorization);
    if (!match) throw unauthenticated('Malformed Authorization header: expected "Bearer <token>"');
    const credential = match[1];
    // Security bookkeeping is not counted as the request's own SQL (X-SQL-Statements).
    if (credential.startsWith(TOKEN_PREFIX)) {
      const hash = hashToken(credential);
      try {
        const principal = await outsideRequest(() => this.apiToken(hash));
        this.lastVerified.set(hash, principal);
        return principal;
      } catch (error) {
        if (error instanceof GraphQLError) {
          this.lastVerified.delete(hash); // refused (revoked, expired): not even for health reads
          throw error;
        }
        // Only an unreachable store is an outage; anything else is a fault of ours, answered as an
        // internal error (logged with its cause under an error id by graphql/errors.ts).
        if (!asOutage(error)) throw error;
        // A token verified before the outage may still ask poolHealth why; revocation applies again
        // as soon as the store answers.
        const known = this.lastVerified.get(hash);
        if (known) return { ...known, healthOnly: true };
        throw serviceUnavailable('Could not check the token: the database is unavailable; retry later', error);
      }
    }
    if (this.jwtKey && this.config.jwt) return this.jwt(credential, this.jwtKey, this.config.jwt);
    throw unauthenticated('Unknown token: API tokens start with tmg_, and no JWT issuer is configured');
  }

  private async apiToken(hash: string): Promise<Principal> {
    const result = await this.tokens.verify(hash);
    if ('refused' in result) throw unauthenticated(`Invalid token: ${result.refused}`);
    return { kind: 'token', id: result.token.id, name: result.token.name, role: result.token.role };
  }

  private async jwt(credential: string, key: Uint8Array | JWTVerifyGetKey, config: JwtConfig): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(credential, key as Uint8Array, {
        issuer: config.issuer,
        audience: config.audience,
        // Never "none"; HMAC for a shared secret, asymmetric algorithms for a key set.
        algorithms: config.secret
          ? ['HS256', 'HS384', 'HS512']
          : ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
        clockTolerance: config.clockSkewSeconds,
        requiredClaims: ['exp'],
      });
      payload = verified.payload;
    } catch (error) {
      throw unauthenticated(`Invalid JWT: ${describeJoseError(error)}`);
    }
    const refusal = lifetimeRefusal(payload, config, Math.floor(Date.now() / 1000));
    if (refusal) throw unauthenticated(`Invalid JWT: ${refusal}`);
    if (!payload.sub) throw unauthenticated('Invalid JWT: it has no subject (sub) claim');
    const role = claim(payload, config.roleClaim);
    if (!isRole(role)) throw unauthenticated(`Invalid JWT: claim "${config.roleClaim}" must be viewer, operator or admin`);
    const name = [payload.name, payload.email, payload.sub].find((v) => typeof v === 'string') as string;
    return { kind: 'jwt', id: payload.sub.slice(0, 255), name: name.slice(0, 255), role };
  }
}

/**
 * A token valid "forever" (exp in 9999) or issued in the future outlives any revocation at the
 * identity provider: its lifetime is capped (JWT_MAX_LIFETIME_SECONDS), within the clock skew.
 * jose has checked that exp is present, a number, and not past.
 */
function lifetimeRefusal(payload: JWTPayload, config: JwtConfig, now: number): string | undefined {
  const { maxLifetimeSeconds: max, clockSkewSeconds: skew } = config;
  const exp = payload.exp as number;
  if (payload.iat !== undefined && payload.iat > now + skew) return 'it is issued in the future (iat)';
  if (exp > now + max + skew) return `it expires more than ${max} seconds ahead (exp; JWT_MAX_LIFETIME_SECONDS)`;
  if (payload.iat !== undefined && exp - payload.iat > max + skew)
    return `it is valid for more than ${max} seconds from its iat (JWT_MAX_LIFETIME_SECONDS)`;
  return undefined;
}

function claim(payload: JWTPayload, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), payload);
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp' && error.reason === 'missing')
    return 'it has no expiry (exp claim); tokens without one are not accepted';
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf') return 'it is not valid yet (nbf)';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim "${error.claim}" is not accepted (${error.reason})`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return 'it is malformed';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the identity provider matches it';
  return 'it could not be verified';
}
