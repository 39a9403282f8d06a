import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Context } from './context';
import { createDepthLimitRule } from './depth-limit.rule';
import { createFormatError } from './errors';
import { createRequestLogPlugin } from './plugins/request-log.plugin';

export function createApolloServer(schema: GraphQLSchema, httpServer: Server, config: Config, logger: Logger, plugins: ApolloServerPlugin<Context>[] = []): ApolloServer<Context> {
  return new ApolloServer<Context>({
    schema,
    introspection: config.graphql.introspection,
    validationRules: [createDepthLimitRule(config.graphql.depthLimit)],
    formatError: createFormatError(logger, config.isProduction),
    includeStacktraceInErrorResponses: false,
    // Apollo's default landing page loads from a CDN; the IDE is served locally instead.
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled(), createRequestLogPlugin({ sqlCountHeader: config.graphql.sqlCountHeader }), ...plugins],
    logger,
  });
}
