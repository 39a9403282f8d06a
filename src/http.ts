import { randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import type { Config } from './config';
import { createContext, type Context } from './graphql/context';
import { httpErrorBody } from './graphql/errors';
import { createIdeRouter } from './ide/ide.router';
import type { Logger } from './logger';
import { requestStats } from './request';
import { limitJsonDepth, securityHeaders } from './security/http.guards';
import type { Security } from './security/security';
import type { Services } from './services';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Takes a well-formed X-Request-Id or makes one, and echoes it back. */
const requestId: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const id = given && REQUEST_ID.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  requestStats.run({ requestId: id, sqlStatements: 0 }, next);
};

/** POST bodies must be JSON (GraphQL over HTTP); anything else is a 415 with a GraphQL error body. */
const requireJson: RequestHandler = (req, res, next) => {
  if (req.method === 'POST' && !req.is(['application/json', 'application/graphql-response+json'])) {
    res.status(415).json(httpErrorBody('POST /graphql takes a JSON body: set Content-Type: application/json', 'BAD_REQUEST'));
    return;
  }
  next();
};

/** Answers depend on the token: no shared cache may keep them. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

export function createHttpApp(
  apollo: ApolloServer<Context>,
  services: Services,
  config: Config,
  logger: Logger,
  security: Security,
  routers: Router[] = [],
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestId);
  if (config.security.securityHeaders) app.use(securityHeaders(config.isProduction));

  // Liveness: the process answers. Never touches the database (readiness is /ready).
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  for (const router of routers) app.use(router);

  if (config.ide.enabled) app.use(createIdeRouter());

  app.use(
    '/graphql',
    noStore,
    requireJson,
    express.json({ limit: config.graphql.bodyLimitBytes, type: ['application/json', 'application/graphql-response+json'] }),
    limitJsonDepth(config.security.limits.maxJsonDepth),
    expressMiddleware(apollo, {
      // Authentication happens here, once per request: the principal is in the context (ctx.principal).
      context: async ({ req, res }) => {
        const requestId = res.locals.requestId as string;
        const principal = await security.authenticator.authenticate(req.get('authorization')).catch((error: Error) => {
          logger.warn('authentication refused', { requestId, reason: error.message, ip: req.ip });
          throw error;
        });
        return createContext(services, logger, requestId, principal, req.get('idempotency-key'));
      },
    }),
  );

  app.use((req, res) => {
    res.status(404).json(httpErrorBody(`No route for ${req.method} ${req.path}; GraphQL is served at /graphql`, 'NOT_FOUND'));
  });

  // Body-parser refusals (bad JSON, too large, bad charset) carry a 4xx status; the rest is ours.
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error('unhandled HTTP error', { requestId: res.locals.requestId, error: err });
    const message =
      err?.type === 'entity.parse.failed'
        ? 'The request body is not valid JSON'
        : err?.type === 'entity.too.large'
          ? `The request body is larger than ${config.graphql.bodyLimitBytes} bytes`
          : status === 500
            ? 'Internal server error'
            : String(err?.message ?? 'Bad request');
    res.status(status).json(httpErrorBody(message, status === 500 ? 'INTERNAL_SERVER_ERROR' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST'));
  };
  app.use(onError);
  return app;
}
