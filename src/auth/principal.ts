import type { Role } from './roles';

/**
 * Who a request acts for. `kind` says where it came from: an API token issued by this gateway, a
 * JWT from an identity provider, an anonymous development reader, or the gateway's own commands.
 */
export interface Principal {
  kind: 'token' | 'jwt' | 'anonymous' | 'system';
  /** API token id, JWT subject, 'anonymous', or the command's name. Written to the audit log. */
  id: string;
  /** A readable name: the token's name, the JWT's name/email claim, or the command. */
  name: string;
  role: Role;
  /**
   * Set when the token store could not be reached and this token had been verified before: the
   * request may read health (`poolHealth`) and nothing else (src/graphql/plugins/outage.plugin.ts).
   */
  healthOnly?: boolean;
}

export const ANONYMOUS_READER: Principal = Object.freeze({ kind: 'anonymous', id: 'anonymous', name: 'anonymous', role: 'viewer' as Role });

export function systemPrincipal(command: string): Principal {
  return { kind: 'system', id: `system:${command}`, name: command, role: 'admin' as Role };
}

/** The key a rate-limit budget is counted under: one per token or JWT subject (anonymous readers share one). */
export function budgetKey(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}
