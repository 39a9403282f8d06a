import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Context } from './context';
import { createDepthLimitRule } from './depth-limit.rule';
import { createFormatError } from './errors';
import { jitGateway } from './jit';
import { createOutagePlugin } from './plugins/outage.plugin';
import { createOperationResolutionPlugin } from './plugins/operation-resolution.plugin';
import { createRequestLogPlugin } from './plugins/request-log.plugin';

/**
 * What the rest of the gateway adds to Apollo (gateway.ts collects them): the security layer's
 * document limits and cost plugin, the anonymous-read guard, metrics. They run after the
 * plugins below, in the order given.
 */
export interface ApolloParts {
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin<Context>[];
}

export function createApolloServer(schema: GraphQLSchema, config: Config, logger: Logger, parts: ApolloParts): ApolloServer<Context> {
  const limits = config.security.limits;
  return new ApolloServer<Context>({
    gateway: jitGateway(schema),
    introspection: config.graphql.introspection,
    validationRules: [createDepthLimitRule(config.graphql.depthLimit), ...parts.validationRules],
    // Hostile documents: a lexical token cap bounds parsing work; batches are off unless enabled.
    parseOptions: { maxTokens: limits.maxTokens },
    allowBatchedHttpRequests: limits.batching,
    // GET and "simple" requests need a header a browser cannot send cross-site without preflight.
    csrfPrevention: true,
    formatError: createFormatError(logger, config.isProduction, { hideSuggestions: !config.graphql.introspection }),
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
      createOperationResolutionPlugin(),
      createOutagePlugin(),
      createRequestLogPlugin({ sqlCountHeader: config.graphql.sqlCountHeader }),
      ...parts.plugins,
    ],
    logger,
  });
}
