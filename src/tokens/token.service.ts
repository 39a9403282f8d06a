import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { IsNull, type DataSource } from 'typeorm';
import { auditedStatement, insertedRows, outcomeOf, writtenTable, type WrittenTable } from '../audit/audited-statement';
import { poolQuery, runWrite } from '../db/writes';
import { Params } from '../db/sql';
import { BadInputError, NotFoundError } from '../errors';
import type { RequestScope } from '../request';
import { ApiToken } from './api-token.entity';
import { hashToken, TOKEN_PREFIX } from '../security/authenticate';
import type { Role } from '../auth/roles';

export interface IssueTokenInput {
  name: string;
  role: Role;
  expiresAt?: Date | null;
}

export interface IssuedToken {
  /** The secret: returned once, never stored. */
  token: string;
  apiToken: ApiToken;
}

/** Most verified tokens remembered at once (a full cache forgets the least recently used). */
const CACHE_ENTRIES = 10_000;

/**
 * API tokens: random 256-bit secrets, stored only as SHA-256 hashes. A verified token is remembered
 * for `cacheSeconds` (AUTH_TOKEN_CACHE_SECONDS), so a request does not pay a database round trip to
 * authenticate: expiry is still checked on every request, and a revocation through this gateway
 * takes effect at once; a change made elsewhere (another instance, SQL) within `cacheSeconds`.
 */
export class TokenService {
  private readonly verified = new LRUCache<string, { token: ApiToken; until: number }>({ max: CACHE_ENTRIES });
  /** Bumped by every revocation: a look-up that raced with one is not remembered. */
  private revocations = 0;

  constructor(
    private readonly db: DataSource,
    private readonly cacheSeconds = 0,
  ) {}

  private written?: WrittenTable;
  private get table(): WrittenTable {
    return (this.written ??= writtenTable(this.db, ApiToken, 'api_token'));
  }

  list(first: number, includeRevoked: boolean): Promise<ApiToken[]> {
    return this.db.getRepository(ApiToken).find({
      where: includeRevoked ? {} : { revokedAt: IsNull() },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: first,
    });
  }

  async issue(scope: RequestScope, input: IssueTokenInput, operation = 'createApiToken'): Promise<IssuedToken> {
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new BadInputError('expiresAt', 'must be in the future');
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const p = new Params();
    const values = [input.name, input.role, hashToken(token), token.slice(0, TOKEN_PREFIX.length + 4), scope.principal.id].map((v) =>
      p.add(v),
    );
    const statement = auditedStatement(scope, this.table, {
      kind: 'insert',
      operation,
      insert: `INSERT INTO api_tokens AS w (name, role, token_hash, token_prefix, created_by, expires_at)
        VALUES (${values.join(', ')}, ${p.add(input.expiresAt?.toISOString() ?? null)}::timestamptz)`,
      params: p,
    });
    const [apiToken] = insertedRows<ApiToken>(await runWrite(poolQuery(this.db), statement));
    return { token, apiToken };
  }

  async revoke(scope: RequestScope, id: string): Promise<ApiToken> {
    const p = new Params();
    const statement = auditedStatement(scope, this.table, {
      kind: 'update',
      operation: 'revokeApiToken',
      id: `${p.add(id)}::uuid`,
      set: ['revoked_at = now()'],
      where: ['o.revoked_at IS NULL'], // revoking twice is harmless and changes nothing
      params: p,
    });
    const outcome = outcomeOf<ApiToken>(await runWrite(poolQuery(this.db), statement));
    this.forget(id); // after the commit, so that no concurrent check caches the row as it was
    if (outcome.changed) return outcome.row;
    if (!outcome.current) throw new NotFoundError('API token', id);
    return outcome.current;
  }

  /** The live token with this secret, or why not. Records last use at most once a minute. */
  /** `hash`: hashToken of the token (the authenticator has worked it out already). */
  async verify(hash: string): Promise<{ token: ApiToken } | { refused: string }> {
    const now = Date.now();
    const cached = this.verified.get(hash);
    if (cached && cached.until > now) return live(cached.token, now);
    const revocations = this.revocations;
    const repo = this.db.getRepository(ApiToken);
    const found = await repo.findOneBy({ tokenHash: hash });
    if (!found) return { refused: 'unknown API token' };
    const result = live(found, now);
    if ('refused' in result) return result;
    if (!found.lastUsedAt || now - found.lastUsedAt.getTime() > 60_000) {
      await repo.update({ id: found.id }, { lastUsedAt: () => 'now()' });
    }
    if (this.cacheSeconds > 0 && revocations === this.revocations) {
      this.verified.set(hash, { token: found, until: now + this.cacheSeconds * 1000 });
    }
    return result;
  }

  private forget(id: string): void {
    this.revocations += 1;
    for (const [hash, entry] of [...this.verified.entries()]) if (entry.token.id === id) this.verified.delete(hash);
  }
}

function live(token: ApiToken, now: number): { token: ApiToken } | { refused: string } {
  if (token.revokedAt) return { refused: 'the API token was revoked' };
  if (token.expiresAt && token.expiresAt.getTime() <= now) return { refused: 'the API token has expired' };
  return { token };
}
