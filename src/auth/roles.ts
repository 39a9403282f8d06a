import { registerEnumType } from 'type-graphql';

/** Roles, each including the ones before it: viewer reads; operator also writes work; admin does all. */
export enum Role {
  VIEWER = 'viewer',
  OPERATOR = 'operator',
  ADMIN = 'admin',
}
registerEnumType(Role, {
  name: 'Role',
  description:
    'VIEWER reads; OPERATOR also writes tasks, executions and metrics; ADMIN also manages integrations, tokens, the audit log and runSql.',
});

const RANK: Record<Role, number> = { [Role.VIEWER]: 1, [Role.OPERATOR]: 2, [Role.ADMIN]: 3 };

export const ROLES: readonly Role[] = [Role.VIEWER, Role.OPERATOR, Role.ADMIN];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Whether `held` is `required` or a role above it. */
export function roleSatisfies(held: Role, required: Role): boolean {
  return RANK[held] >= RANK[required];
}
