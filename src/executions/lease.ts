import { createHash } from 'node:crypto';
import { ConflictError } from '../errors';

/** The code detail of a CONFLICT for a lease that is no longer the caller's (extensions.detail). */
export const LEASE_LOST = 'LEASE_LOST';
/** The reason the reaper writes in errorDetails of an execution whose lease ran out. */
export const LEASE_EXPIRED = 'LEASE_EXPIRED';

/** What is stored of a lease token (task_executions.lease_token_hash): its SHA-256, hex. */
export function leaseTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function leaseLost(id: string): ConflictError {
  return new ConflictError(
    `leaseToken: the lease on execution ${id} is no longer yours (it expired or was taken over); stop working on it`,
    {
      field: 'leaseToken',
      detail: LEASE_LOST,
    },
  );
}
