import { getMetadataStorage, type AuthChecker, type ClassType } from 'type-graphql';
import { DomainError } from '../errors';
import type { RequestScope } from '../request';
import { isRole, Role, roleSatisfies, ROLES } from '../auth/roles';

/**
 * The one auth checker for `@Authorized(Role.X)`: the principal's role must be X or above. A field
 * listing several roles needs the lowest of them.
 */
export const authChecker: AuthChecker<RequestScope, Role> = ({ context, info }, roles) => {
  const required = lowest(roles);
  const { principal } = context;
  if (roleSatisfies(principal.role, required)) return true;
  const field = `${info.parentType.name}.${info.fieldName}`;
  if (principal.kind === 'anonymous') {
    throw new DomainError('UNAUTHENTICATED', `${field} needs a token with the ${required} role: send Authorization: Bearer <token>`, {
      requiredRole: required,
    });
  }
  throw new DomainError('FORBIDDEN', `${field} needs the ${required} role; this token has ${principal.role}`, {
    requiredRole: required,
    role: principal.role,
  });
};

function lowest(roles: Role[]): Role {
  const valid = roles.filter(isRole);
  if (valid.length === 0) return Role.ADMIN; // @Authorized() without a role: admins only (fail closed)
  return ROLES.find((r) => valid.includes(r)) as Role;
}

/**
 * Fails start-up when a root Query or Mutation field of these resolvers has no @Authorized: a new
 * operation is closed until someone decides who may call it.
 */
export function assertEveryRootFieldAuthorized(resolvers: readonly ClassType[]): void {
  const storage = getMetadataStorage();
  const authorized = new Set(storage.authorizedFields.map((f) => `${f.target.name}.${f.fieldName}`));
  const classAuthorized = new Set(storage.authorizedResolver.map((r) => r.target));
  const open = [...storage.queries, ...storage.mutations, ...storage.subscriptions]
    .filter((r) => resolvers.some((resolver) => resolver === r.target))
    .filter((r) => !classAuthorized.has(r.target) && !authorized.has(`${r.target.name}.${r.methodName}`))
    .map((r) => `${r.target.name}.${r.methodName}`);
  if (open.length > 0) {
    throw new Error(`Every root field needs @Authorized(Role.X); missing on: ${open.join(', ')}`);
  }
  // Object types use simple resolvers (plain property reads, no per-field middleware), which would
  // skip an @Authorized on one of their fields: refuse it rather than serve the field to anyone.
  const objectTypes = new Set(storage.objectTypes.map((o) => o.target));
  const onFields = storage.authorizedFields.filter((f) => objectTypes.has(f.target)).map((f) => `${f.target.name}.${f.fieldName}`);
  if (onFields.length > 0) {
    throw new Error(
      `@Authorized on an object type's field is not enforced (simple resolvers); guard the root field instead: ${onFields.join(', ')}`,
    );
  }
}
