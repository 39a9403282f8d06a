import { createHash } from 'node:crypto';
import type { GraphQLResolveInfo } from 'graphql';
import type { DataSource } from 'typeorm';
import { budgetKey } from '../auth/principal';
import { BadInputError, ConflictError, connectionFailure, OutcomeUnknownError } from '../errors';
import { poolQuery, releaseRunner, runnerQuery, type RunStatement } from '../db/writes';
import type { RequestScope } from '../request';

/** Which key a create-like mutation field was sent with. */
export interface IdempotencyRequest {
  key: string;
  /** The field's response key (its alias, or its name): one key covers one mutation field. */
  scope: string;
  /** The mutation field, e.g. createTask. */
  operation: string;
}

const KEY = /^[\x21-\x7e]{1,255}$/;
/** Expired keys are deleted at most this often (by the first keyed write after the interval). */
const CLEANUP_INTERVAL_MS = 60_000;

/**
 * The key of a create-like mutation field: its `idempotencyKey` input, else the request's
 * `Idempotency-Key` header; none: undefined. Both given and different: BAD_USER_INPUT.
 */
export function idempotencyOf(scope: RequestScope, info: GraphQLResolveInfo, inputKey?: string | null): IdempotencyRequest | undefined {
  const header = scope.idempotencyKey;
  if (inputKey != null && header != null && inputKey !== header) {
    throw new BadInputError('idempotencyKey', 'differs from the Idempotency-Key header; send one of them, or the same value');
  }
  const key = inputKey ?? header;
  if (key == null) return undefined;
  if (!KEY.test(key)) throw new BadInputError('idempotencyKey', 'must be 1 to 255 visible ASCII characters (a UUID is a good key)');
  return { key, scope: String(info.path.key), operation: info.fieldName };
}

/**
 * Idempotency keys: the same key from the same principal on the same mutation field within the
 * TTL gets the first answer again, and nothing is written. The key row is inserted first, in the
 * same transaction as the write (INSERT ... ON CONFLICT): its primary key decides a race, a racer
 * waits for the winner's transaction and then reads the stored answer. A failed write rolls the
 * key back with it, so a retry runs again. The same key with another input: CONFLICT naming it.
 */
export class IdempotencyService {
  private lastCleanup = 0;

  constructor(
    private readonly db: DataSource,
    private readonly ttlHours: number,
  ) {}

  /** Runs `write` once per key; without a key it runs on the pool as it is. */
  async once<T>(
    scope: RequestScope,
    request: IdempotencyRequest | undefined,
    input: unknown,
    write: (query: RunStatement) => Promise<T>,
  ): Promise<T> {
    if (!request) return write(poolQuery(this.db));
    const principal = budgetKey(scope.principal);
    const hash = requestHash(request.operation, input);
    const runner = this.db.createQueryRunner();
    let sent = false;
    let broken: unknown;
    try {
      await runner.connect();
      await runner.startTransaction();
      sent = true;
      const query = runnerQuery(runner);
      const [claimed] = await query(
        `INSERT INTO idempotency_keys AS k (principal, idempotency_key, scope, operation, request_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6::int))
         ON CONFLICT (principal, idempotency_key, scope) DO UPDATE
           SET operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash, response = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
           WHERE k.expires_at <= now()
         RETURNING 1 AS claimed`,
        [principal, request.key, request.scope, request.operation, hash, this.ttlHours],
      );
      let answer: T;
      if (claimed) {
        answer = await write(query);
        await query(`UPDATE idempotency_keys SET response = $4::jsonb WHERE principal = $1 AND idempotency_key = $2 AND scope = $3`, [
          principal,
          request.key,
          request.scope,
          JSON.stringify(answer ?? null),
        ]);
      } else {
        const [stored] = await query(
          `SELECT request_hash, response FROM idempotency_keys WHERE principal = $1 AND idempotency_key = $2 AND scope = $3`,
          [principal, request.key, request.scope],
        );
        if (stored.request_hash !== hash) {
          throw new ConflictError(
            `idempotencyKey: the key "${request.key}" was already used for ${request.scope} with another input; use a new key for a new request`,
            {
              field: 'idempotencyKey',
              idempotencyKey: request.key,
            },
          );
        }
        answer = stored.response as T;
      }
      await runner.commitTransaction();
      if (claimed) this.cleanupSoon(scope);
      return answer;
    } catch (error) {
      const lost = error instanceof OutcomeUnknownError || connectionFailure(error) === 'lost';
      if (lost) broken = error;
      else if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      if (lost && sent) throw error instanceof OutcomeUnknownError ? error : new OutcomeUnknownError();
      throw error;
    } finally {
      await releaseRunner(runner, broken);
    }
  }

  /** Deletes expired keys; returns how many. */
  async deleteExpired(): Promise<number> {
    // TypeORM answers a DELETE on PostgreSQL with [rows, row count].
    const [, count] = await this.db.query<[unknown[], number]>(`DELETE FROM idempotency_keys WHERE expires_at <= now()`);
    return count;
  }

  private cleanupSoon(scope: RequestScope): void {
    const now = Date.now();
    if (now - this.lastCleanup < CLEANUP_INTERVAL_MS) return;
    this.lastCleanup = now;
    this.deleteExpired().catch((error: Error) => scope.logger.warn('idempotency key clean-up failed', { error: error.message }));
  }
}

/** SHA-256 of the operation and its input with keys sorted, the idempotency key itself left out. */
export function requestHash(operation: string, input: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([operation, canonical(input)]))
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => k !== 'idempotencyKey' && (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
