import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  execute,
  getNamedType,
  getVariableValues,
  isInputObjectType,
  typeFromAST,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLInputObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Context } from './context';
import { realGraphQLError } from './errors';

type Gateway = ApolloServerOptionsWithGateway<Context>['gateway'];

/**
 * Executes operations with graphql-jit: each document is compiled once into JavaScript (Apollo's
 * document cache hands back the same parsed document for the same query text), then runs without
 * graphql-js's per-field interpretation, into plain objects that serialise fast. Apollo Server 5
 * has no executor option; its gateway interface is the documented way to supply one. Parsing,
 * validation, plugins, the context and error formatting stay Apollo's. Variables are coerced once,
 * by the compiled query; a bad variable is still refused with graphql-js's own message and HTTP 400.
 * graphql-jit unrolls variable parsing type by type and never ends on a recursive input type
 * (TaskFilter's and/or/not): an operation with such a variable runs on graphql-js instead.
 */
export function jitGateway(schema: GraphQLSchema): Gateway {
  // Per document and operation name: its compiled form, or graphql-js (decided once, like the compile).
  const plans = new WeakMap<DocumentNode, Map<string, CompiledQuery | typeof GRAPHQL_JS>>();
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async load() {
      return {
        async executor(rc) {
          const operation = rc.operation as OperationDefinitionNode | undefined;
          // Refused earlier (operation-resolution plugin); graphql-js states why, should it get here.
          if (!operation)
            return execute({
              schema,
              document: rc.document,
              variableValues: rc.request.variables,
              operationName: rc.request.operationName,
            });
          const variables = rc.request.variables ?? {};
          let byOperation = plans.get(rc.document);
          if (!byOperation) plans.set(rc.document, (byOperation = new Map<string, CompiledQuery | typeof GRAPHQL_JS>()));
          const name = rc.operationName ?? '';
          let plan = byOperation.get(name);
          if (!plan) {
            if (operation.variableDefinitions?.some((v) => recursive(typeFromAST(schema, v.type as never)))) {
              plan = GRAPHQL_JS;
            } else {
              const result = compileQuery(schema, rc.document, rc.operationName ?? undefined);
              if (!isCompiledQuery(result)) return withGraphQLErrors(result);
              plan = result;
            }
            byOperation.set(name, plan);
          }
          // graphql-js coerces the variables itself (and refuses bad ones with its own errors)
          if (plan === GRAPHQL_JS) {
            return execute({
              schema,
              document: rc.document,
              contextValue: rc.context,
              variableValues: variables,
              operationName: rc.operationName,
            });
          }
          // Variables are coerced once, by the compiled query. Only when it refuses them (an answer
          // with errors and no data) are they coerced again by graphql-js, for its messages, which
          // Apollo recognises as a bad request (HTTP 400).
          const result = await plan.query(undefined, rc.context, variables);
          if (result.errors && !('data' in result) && operation.variableDefinitions?.length) {
            const coerced = getVariableValues(schema, operation.variableDefinitions, variables, { maxErrors: 50 });
            if (coerced.errors) return { errors: coerced.errors };
          }
          return withGraphQLErrors(result);
        },
      };
    },
    async stop() {},
  };
}

const GRAPHQL_JS = Symbol('graphql-js');

/**
 * graphql-jit's errors only look like graphql-js's (no `extensions` object when the thrown error
 * has none, which Apollo's error formatting reads): rebuilt as real GraphQLErrors, same message,
 * path, locations and original error.
 */
function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors) return result;
  return { ...result, errors: result.errors.map(realGraphQLError) };
}

const recursiveTypes = new WeakMap<GraphQLInputObjectType, boolean>();

/** Whether an input type leads to a cycle of input types (itself or one of its fields' types). */
function recursive(type: unknown): boolean {
  const named = type ? getNamedType(type as never) : undefined;
  if (!isInputObjectType(named)) return false;
  let known = recursiveTypes.get(named);
  if (known === undefined) {
    const onPath = new Set<GraphQLInputObjectType>();
    const done = new Set<GraphQLInputObjectType>();
    const cycle = (t: GraphQLInputObjectType): boolean => {
      if (onPath.has(t)) return true;
      if (done.has(t)) return false;
      onPath.add(t);
      const found = Object.values(t.getFields()).some((f) => {
        const inner = getNamedType(f.type);
        return isInputObjectType(inner) && cycle(inner);
      });
      onPath.delete(t);
      done.add(t);
      return found;
    };
    recursiveTypes.set(named, (known = cycle(named)));
  }
  return known;
}
