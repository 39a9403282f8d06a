import { LRUCache } from 'lru-cache';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { budgetKey, type Principal } from '../auth/principal';
import type { Config } from '../config';
import { createContext, type Context } from '../graphql/context';
import { createDepthLimitRule } from '../graphql/depth-limit.rule';
import { apiError, createFormatError } from '../graphql/errors';
import type { GatewayServices } from '../graphql/features';
import type { Logger } from '../logger';
import { costLimitExceeded, rateLimited } from './budget.refusals';
import { costOf } from './cost';
import { createDocumentLimitRules } from './limit.rules';
import type { BudgetState, RateLimiter } from './rate-limiter';

/*
 * The one GraphQL pipeline: the steps an operation goes through before it executes, whichever
 * transport carries it. HTTP runs them inside Apollo (its validationRules and parseOptions, the
 * operation-resolution and cost plugins); the WebSocket subscribe (subscriptions/ws-operations.ts)
 * calls them in the same order: parse, validate, resolve the operation, cost, budget, context.
 */

/** The transport an operation came by: each refuses the operations that belong to the other. */
export type Transport = 'http' | 'ws';

/** The budget store's answer, or what its failure becomes (HTTP: an outage, or nothing for a health read). */
export type FromStore = <T>(work: Promise<T>) => Promise<T | undefined>;

/** What the cost and budget step decided: the token's budget (when known), and the refusal if any. */
export interface Charge {
  state?: BudgetState;
  refusal?: GraphQLError;
}

export interface OperationPipeline {
  /** The rules beyond graphql's specified ones (the depth limit, the document limits): Apollo's `validationRules`, which adds graphql's itself. */
  readonly addedRules: ValidationRule[];
  /** Apollo's parseOptions, and the WebSocket's parse: the lexical token cap. */
  readonly parseOptions: ParseOptions;
  /** Both transports' error formatting (masking in production, suggestions hidden without introspection). */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Parse and validate, cached by text (what Apollo does for HTTP, with the same options and rules); errors coded as Apollo codes them. */
  document(text: string): DocumentNode | GraphQLError[];
  /**
   * The operation resolved from the document (getOperationAST, as Apollo resolves it) when it may
   * run, else the refusal: none chosen (OPERATION_RESOLUTION_FAILURE), or one the transport does
   * not carry (BAD_USER_INPUT naming the other).
   */
  operation(
    document: DocumentNode,
    operation: OperationDefinitionNode | null | undefined,
    operationName: string | null | undefined,
    transport: Transport,
  ): OperationDefinitionNode | GraphQLError;
  /** The operation's cost (cost.ts), rounded up and at least `minCost`; kept per document and operation when no variable changes it. */
  cost(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined, minCost: number): number;
  /**
   * Charges `cost` to the principal's budget: COST_LIMIT_EXCEEDED over GRAPHQL_MAX_COST (with the
   * budget peeked when `peekOnRefusal`), RATE_LIMITED when it does not fit.
   */
  charge(principal: Principal, cost: number, fromStore?: FromStore, peekOnRefusal?: boolean): Promise<Charge>;
  /** The context every resolver receives. */
  context(principal: Principal, requestId: string, idempotencyKey?: string, serverRequestId?: string): Context;
}

export interface PipelineOptions {
  schema: GraphQLSchema;
  config: Config;
  logger: Logger;
  services: GatewayServices;
  rateLimiter: RateLimiter;
}

const asIs: FromStore = (work) => work;

export function createOperationPipeline({ schema, config, logger, services, rateLimiter }: PipelineOptions): OperationPipeline {
  const limits = config.security.limits;
  const addedRules = [createDepthLimitRule(config.graphql.depthLimit), ...createDocumentLimitRules(limits)];
  const validationRules = [...specifiedRules, ...addedRules];
  const parseOptions: ParseOptions = { maxTokens: limits.maxTokens };
  // Parsed and validated documents by text, as Apollo keeps them for HTTP: dashboards subscribe
  // with the same few documents, and a reconnect storm must not re-validate each one.
  const documents = new LRUCache<string, DocumentNode | GraphQLError[]>({ max: 1_000 });
  // A document's cost, once per document and operation when no variable changes it (documents come
  // from a cache: Apollo's for HTTP, the one above for WebSocket).
  const costs = new WeakMap<DocumentNode, Map<string, number>>();
  const checkDocument = (text: string): DocumentNode | GraphQLError[] => {
    try {
      const document = parse(text, parseOptions);
      const errors = validate(schema, document, validationRules);
      if (errors.length === 0) return document;
      return errors.map(
        (e) =>
          new GraphQLError(e.message, {
            nodes: e.nodes,
            extensions: { ...e.extensions, code: e.extensions.code ?? 'GRAPHQL_VALIDATION_FAILED' },
          }),
      );
    } catch (error) {
      return [apiError('GRAPHQL_PARSE_FAILED', error instanceof GraphQLError ? error.message : 'The document does not parse')];
    }
  };
  return {
    addedRules,
    parseOptions,
    formatError: createFormatError(logger, config.isProduction, { hideSuggestions: !config.graphql.introspection }),
    document(text) {
      let checked = documents.get(text);
      if (!checked) documents.set(text, (checked = checkDocument(text)));
      return checked;
    },
    operation: (document, operation, operationName, transport) => {
      if (!operation) return operationResolutionFailure(document, operationName);
      const subscription = operation.operation === OperationTypeNode.SUBSCRIPTION;
      if (transport === 'http' && subscription)
        return apiError('BAD_USER_INPUT', 'Subscriptions run over WebSocket (graphql-ws) at this same URL, not over HTTP', { status: 400 });
      if (transport === 'ws' && !subscription)
        return apiError('BAD_USER_INPUT', 'Only subscriptions run over WebSocket; send queries and mutations to POST /graphql');
      return operation;
    },
    cost(document, operation, variables, minCost) {
      let byOperation = costs.get(document);
      if (!byOperation) costs.set(document, (byOperation = new Map<string, number>()));
      const name = operation.name?.value ?? '';
      let cost = byOperation.get(name);
      if (cost === undefined) {
        const computed = costOf(schema, document, operation, variables, { defaultPageSize: limits.defaultPageSize });
        cost = Math.ceil(computed.cost);
        if (!computed.byVariables) byOperation.set(name, cost);
      }
      // every operation spends at least minCost: a free one still counts against the budget
      return Math.max(minCost, cost);
    },
    async charge(principal, cost, fromStore = asIs, peekOnRefusal = false) {
      const key = budgetKey(principal);
      if (cost > limits.maxCost) {
        const peeked = peekOnRefusal ? await fromStore(rateLimiter.peek(key)) : undefined;
        return { state: peeked && { ...peeked, requested: cost, allowed: false }, refusal: costLimitExceeded(cost, limits.maxCost) };
      }
      const state = await fromStore(rateLimiter.charge(key, cost));
      return { state, refusal: state && !state.allowed ? rateLimited(cost, state) : undefined };
    },
    context: (principal, requestId, idempotencyKey, serverRequestId) =>
      createContext(services, logger, requestId, principal, idempotencyKey, serverRequestId),
  };
}

/** OPERATION_RESOLUTION_FAILURE (HTTP 400): a valid document whose operation cannot be chosen, with the reason. */
export function operationResolutionFailure(document: DocumentNode, operationName: string | null | undefined): GraphQLError {
  const names = document.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value ?? '(anonymous)'] : []));
  const message =
    operationName != null
      ? `Unknown operation named "${operationName}": the document has ${names.length ? names.map((n) => `"${n}"`).join(', ') : 'no operations'}; send one of these as operationName`
      : names.length > 1
        ? `The document has ${names.length} operations (${names.join(', ')}): send the one to run as operationName`
        : 'The document has no operation to run';
  return apiError('OPERATION_RESOLUTION_FAILURE', message, { details: { operations: names }, status: 400 });
}
