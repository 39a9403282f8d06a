import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config';
import { createAnonymousWritePlugin } from '../auth/anonymous.plugin';
import type { Logger } from '../logger';
import { createCostPlugin } from '../security/cost.plugin';
import { createDocumentLimitRules } from '../security/limit.rules';
import type { Security } from '../security/security';
import type { Context } from './context';
import { createDepthLimitRule } from './depth-limit.rule';
import { createFormatError } from './errors';
import { jitGateway } from './jit';
import { createRequestLogPlugin } from './plugins/request-log.plugin';

export function createApolloServer(
  schema: GraphQLSchema,
  httpServer: Server,
  config: Config,
  logger: Logger,
  security: Security,
  plugins: ApolloServerPlugin<Context>[] = [],
): ApolloServer<Context> {
  const limits = config.security.limits;
  return new ApolloServer<Context>({
    gateway: jitGateway(schema),
    introspection: config.graphql.introspection,
    validationRules: [createDepthLimitRule(config.graphql.depthLimit), ...createDocumentLimitRules(limits)],
    // Hostile documents: a lexical token cap bounds parsing work; batches are off unless enabled.
    parseOptions: { maxTokens: limits.maxTokens },
    allowBatchedHttpRequests: limits.batching,
    // GET and "simple" requests need a header a browser cannot send cross-site without preflight.
    csrfPrevention: true,
    formatError: createFormatError(logger, config.isProduction),
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGINT/SIGTERM: Apollo's own handlers would race our ordered shutdown.
    stopOnTerminationSignals: false,
    // Apollo's default landing page loads from a CDN; the IDE is served locally instead.
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // Cache hints are unused (responses are no-store), and the default cache-control plugin wraps
      // every field resolver to collect them (bench/RESULTS.md, step 1).
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      createRequestLogPlugin({ sqlCountHeader: config.graphql.sqlCountHeader }),
      // Only where anonymous reads are open: elsewhere it would run a hook per request for nothing.
      ...(config.security.auth.anonymousRead ? [createAnonymousWritePlugin()] : []),
      createCostPlugin({ maxCost: limits.maxCost, defaultPageSize: limits.defaultPageSize, rateLimiter: security.rateLimiter }),
      ...plugins,
    ],
    logger,
  });
}
