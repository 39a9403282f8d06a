import { createServer, type Server } from 'node:http';
import type { Config } from '../config';
import { answerClientErrorsWithJson } from './guards';

/** node:http's server, named here so that code outside src/http/ (the WebSocket upgrade) need not import node:http. */
export type HttpServer = Server;

/**
 * The gateway's node:http server, not yet listening. Absolute deadlines from a request's first
 * byte (trickling does not stretch them; a new socket that sends nothing is closed at the headers
 * deadline), checked every second; at most HTTP_MAX_CONNECTIONS sockets; and the requests Node
 * refuses itself answered with a JSON body (guards.ts).
 */
export function createHttpServer(http: Config['http']): HttpServer {
  const server = createServer({
    headersTimeout: http.headersTimeoutSeconds * 1_000,
    requestTimeout: (http.headersTimeoutSeconds + http.bodyTimeoutSeconds) * 1_000,
    connectionsCheckingInterval: 1_000,
  });
  server.maxConnections = http.maxConnections;
  answerClientErrorsWithJson(server);
  return server;
}
