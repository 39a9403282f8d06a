import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { AuditResolver } from '../audit/audit.resolver';
import { assertEveryRootFieldAuthorized, authChecker } from '../auth/auth-checker';
import { TokenResolver } from '../auth/token.resolver';
import { ExecutionResolver, TaskExecutionsResolver } from '../executions/execution.resolver';
import { PoolHealthResolver } from '../health/pool-health.resolver';
import { IntegrationResolver } from '../integrations/integration.resolver';
import { MetricResolver } from '../metrics/metric.resolver';
import { SecurityResolver } from '../security/security.resolver';
import { TaskResolver } from '../tasks/task.resolver';
import { TunnelResolver } from '../tunnel/tunnel.resolver';
import { DateTimeScalar } from './scalars';

export const resolvers = [
  TaskResolver,
  ExecutionResolver,
  TaskExecutionsResolver,
  IntegrationResolver,
  MetricResolver,
  TokenResolver,
  AuditResolver,
  SecurityResolver,
  TunnelResolver,
  PoolHealthResolver,
] as const;

export function createSchema(): Promise<GraphQLSchema> {
  assertEveryRootFieldAuthorized(resolvers);
  return buildSchema({
    resolvers,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // class-validator on every input; unknown objects are GraphQL's job, not the validator's.
    // skipMissingProperties off: an explicit null must still meet the field's rules (title: null is refused).
    validate: { forbidUnknownValues: false, skipMissingProperties: false, validationError: { target: false, value: false } },
  });
}

/** The SDL committed as `schema.graphql`: sorted, so that it diffs cleanly. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
