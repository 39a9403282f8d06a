import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ExecutionResolver } from '../executions/execution.resolver';
import { IntegrationResolver } from '../integrations/integration.resolver';
import { MetricResolver } from '../metrics/metric.resolver';
import { TaskResolver } from '../tasks/task.resolver';
import { DateTimeScalar } from './scalars';

export const resolvers = [TaskResolver, ExecutionResolver, IntegrationResolver, MetricResolver] as const;

export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
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
