import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError, GraphQLSchema, ParseOptions, ValidationRule } from 'graphql';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Context } from './context';
import { jitGateway } from './jit';
import { createOutagePlugin } from './plugins/outage.plugin';
import { createRequestLogPlugin } from './plugins/request-log.plugin';

/**
 * What the rest of the gateway adds to Apollo (gateway.ts collects them). The operation pipeline's
 * steps (security/pipeline.ts, the same the WebSocket runs): the validation rules beyond graphql's
 * own (depth and document limits), the parse options, the error formatting, and the plugin that
 * resolves the operation (first of all). Then the plugins run after the ones below, in the order
 * given: the anonymous-read guard, the cost plugin, metrics.
 */
export interface ApolloParts {
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  operationResolution: ApolloServerPlugin<Context>;
  plugins: ApolloServerPlugin<Context>[];
}

export function createApolloServer(schema: GraphQLSchema, config: Config, logger: Logger, parts: ApolloParts): ApolloServer<Context> {
  return new ApolloServer<Context>({
    gateway: jitGateway(schema),
    introspection: config.graphql.introspection,
    validationRules: parts.validationRules,
    // Hostile documents: a lexical token cap bounds parsing work; batches are off unless enabled.
    parseOptions: parts.parseOptions,
    allowBatchedHttpRequests: config.security.limits.batching,
    // GET and "simple" requests need a header a browser cannot send cross-site without preflight.
    csrfPrevention: true,
    formatError: parts.formatError,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGINT/SIGTERM: Apollo's own handlers would race our ordered shutdown; the HTTP
    // drain is ours too (src/http/drain.ts), since Apollo's closes every socket after 10 s.
    stopOnTerminationSignals: false,
    // Apollo's default landing page loads from a CDN; the IDE is served locally instead.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Cache hints are unused (responses are no-store), and the default cache-control plugin wraps
      // every field resolver to collect them (bench/RESULTS.md, step 1).
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      parts.operationResolution,
      createOutagePlugin(),
      createRequestLogPlugin({ sqlCountHeader: config.graphql.sqlCountHeader }),
      ...parts.plugins,
    ],
    logger,
  });
}
