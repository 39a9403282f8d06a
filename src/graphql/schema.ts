import { getMetadataStorage, validateOrReject, type ValidatorOptions } from 'class-validator';
import { lexicographicSortSchema, printSchema, type GraphQLInterfaceType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { ArgumentValidationError, buildSchema, type BuildSchemaOptions, type ClassType } from 'type-graphql';
import { assertEveryRootFieldAuthorized, authChecker } from './auth-checker';
import { withPlannedFields, type NodeSpec, type PlannedRelations } from './planner';
import { NODE_TYPE } from './node';
import { DateTimeScalar } from './scalars';

/** What the features hand to the schema (collected in src/services.ts): graphql/ names none of them. */
export interface SchemaParts {
  resolvers: readonly [ClassType, ...ClassType[]];
  /** The node types the SQL planner answers (graphql/planner.ts). */
  plannedNodes: readonly NodeSpec[];
  /** Relations features add to another feature's planned node type. */
  plannedRelations?: readonly PlannedRelations[];
  /** type-graphql builds subscriptions only with one; see the subscriptions feature's own. */
  pubSub: BuildSchemaOptions['pubSub'];
  /** Run once per field call on all its arguments, before validation and the resolver: the input size caps (security/input-limits.ts). */
  checkArguments?: (info: GraphQLResolveInfo, args: Record<string, unknown>) => void;
}

export async function createSchema({
  resolvers,
  plannedNodes,
  plannedRelations,
  pubSub,
  checkArguments,
}: SchemaParts): Promise<GraphQLSchema> {
  assertEveryRootFieldAuthorized(resolvers);
  const checked = new WeakSet<object>();
  const schema = await buildSchema({
    resolvers,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validateFn: (value, type, data) => {
      // Called once per argument; the size caps look at all of a call's arguments at once.
      const { args, info } = data;
      if (checkArguments && !checked.has(args)) {
        checked.add(args);
        checkArguments(info, args);
      }
      return validateInput(value, type);
    },
    pubSub,
  });
  // type-graphql wraps resolveType in an async function; graphql-jit resolves abstract types
  // synchronously, so Node's is set here as the plain function it is.
  (schema.getType('Node') as GraphQLInterfaceType).resolveType = (value) => (value as { [NODE_TYPE]?: string })[NODE_TYPE];
  // A subscription's own `subscribe` gets its arguments unvalidated (validateFn runs only when an
  // event is resolved): the caps apply when it subscribes, not as a database error at its first event.
  if (checkArguments) {
    for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
      const subscribe = field.subscribe;
      if (subscribe)
        field.subscribe = (source, args, context, info) => {
          checkArguments(info, args as Record<string, unknown>);
          return subscribe(source, args, context, info);
        };
    }
  }
  return withPlannedFields(schema, plannedNodes, plannedRelations);
}

// Unknown objects are GraphQL's job, not the validator's. skipMissingProperties off: an explicit
// null must still meet the field's rules (title: null is refused).
const VALIDATOR: ValidatorOptions = {
  forbidUnknownValues: false,
  skipMissingProperties: false,
  validationError: { target: false, value: false },
};

const hasRules = new Map<object, boolean>();

/**
 * class-validator on the arguments whose class declares rules; the others (paging arguments,
 * filters, ids) skip it, which type-graphql's own `validate` would not (it is called for every
 * field of every row).
 */
async function validateInput(value: unknown, type: unknown): Promise<void> {
  if (value === null || typeof value !== 'object' || typeof type !== 'function') return;
  let rules = hasRules.get(type);
  if (rules === undefined)
    hasRules.set(type, (rules = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).length > 0));
  if (!rules) return;
  try {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    await Promise.all(values.filter((v): v is object => v !== null && typeof v === 'object').map((v) => validateOrReject(v, VALIDATOR)));
  } catch (errors) {
    throw new ArgumentValidationError(errors as ConstructorParameters<typeof ArgumentValidationError>[0]);
  }
}

/** The SDL committed as `schema.graphql`: sorted, so that it diffs cleanly. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
