import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  getOperationAST,
  GraphQLError,
  OperationTypeNode,
  type ExecutionArgs,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { CloseCode, type SubscribePayload, type Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { WebSocketServer, type WebSocket } from 'ws';
import { budgetKey, type Principal } from '../auth/principal';
import type { Config } from '../config';
import type { HttpRequest as IncomingMessage } from '../http/respond';
import type { HttpServer as Server } from '../http/server';
import type { Context } from '../graphql/context';
import { apiError } from '../graphql/errors';
import type { ErrorCode } from '../errors';
import { query } from '../db/rows';
import { pgSettings } from '../db/data-source';
import type { ReplicaSet } from '../db/replicas';
import type { Logger } from '../logger';
import { SUBSCRIPTION_MIN_COST } from '../security/cost';
import type { OperationPipeline } from '../security/pipeline';
import type { Security } from '../security/security';
import { ChangeHub } from './change-hub';
import { ChangeListener, type ListenerState } from './change-listener';
import { subscribeShared } from './shared-execution';
import { SEQUENCE_CHANGES, type ChangeEvent } from './change-log';
import type { SubscriptionContext } from './subscription.resolver';

/**
 * WebSocket close codes this gateway uses (README "Subscriptions"); graphql-ws's own codes
 * (4400 bad request, 4408 init timeout, 4409 duplicate id, 4429 repeated init, 4500) apply as well.
 */
export const CLOSE_CODES = {
  /** Service restart (the instance is draining): reconnect, to this or another instance, resuming with `after: <last cursor>`. */
  SERVICE_RESTART: 1012,
  /** No, an invalid, a revoked or an expired token (at connection_init, or found on a periodic recheck). Do not retry with the same token. */
  UNAUTHORIZED: 4401,
  /** Try again later: the token could not be checked (the database is unavailable). */
  TRY_AGAIN_LATER: 1013,
  /** This token already holds SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN sockets on this instance. */
  TOO_MANY_SOCKETS: 4029,
  /** Slow consumer: the socket's send buffer or a subscription's queue passed its cap. Reconnect and resume with `after`. */
  SLOW_CONSUMER: 4008,
} as const;

interface SocketState {
  principal?: Principal;
  authorization?: string;
  socket: WebSocket;
  active: Set<string>;
}

type Ctx = WsContext<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage; state?: SocketState }>;

export interface LiveUpdates {
  listenerState(): ListenerState;
  /** For Apollo (HTTP): after a mutation through this instance, its subscribers get the change at once rather than at the next poll. */
  plugin: ApolloServerPlugin<Context>;
  /** Stops reading changes, lets queued events go out, then closes every socket with 1012. */
  drain(timeoutMs?: number): Promise<void>;
  /** Watches one table's changes from now (claimTask's waitSeconds): `wait` resolves at the next change or after `ms`. */
  watch(table: 'tasks'): Promise<ChangeWatch>;
}

export interface ChangeWatch {
  wait(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface LiveUpdatesOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  config: Config;
  logger: Logger;
  security: Security;
  /** The steps an HTTP request goes through, which every subscribe goes through too (security/pipeline.ts). */
  pipeline: OperationPipeline;
  db: DataSource;
  registry: Registry;
  path?: string;
  /** Read replicas: a live event's reads go to one that has replayed the change (src/db/replicas.ts). */
  replicas?: ReplicaSet;
}

/**
 * GraphQL subscriptions over the graphql-ws protocol on the HTTP server's port and path: the same
 * schema, tokens, roles and document limits as HTTP. Events come from the change log, read on one
 * dedicated connection while this instance has a live subscription (ChangeListener), and are fanned
 * out in process (ChangeHub).
 */
export async function startLiveUpdates(o: LiveUpdatesOptions): Promise<LiveUpdates> {
  const { config, logger, security, pipeline, schema } = o;
  const sc = config.subscriptions;
  const path = o.path ?? '/graphql';
  const { formatError } = pipeline;
  const latency = new Histogram({
    name: 'graphql_subscription_delivery_seconds',
    help: 'From the change in the database (trigger time) to the event being handed to its subscription.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [o.registry],
  });
  const reads = new Counter({
    name: 'graphql_subscription_log_reads_total',
    help: 'Statements that read the change log for live subscriptions (only while this instance has one).',
    registers: [o.registry],
  });
  const listener = new ChangeListener({
    clientConfig: pgSettings(config.db),
    replayHours: sc.replayHours,
    pollMs: sc.pollMs,
    logger,
    head: async () => {
      // What was committed before now gets a seq <= the head: numbered by this call, or by the one
      // running meanwhile (null), which commits within milliseconds; then this call numbers the rest.
      for (let tries = 0; tries < 100; tries++) {
        if ((await query<{ n: string | null }>(o.db, SEQUENCE_CHANGES))[0].n !== null) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      return Number((await query<{ seq: string }>(o.db, `SELECT coalesce(max(seq), 0)::text AS seq FROM change_log`))[0].seq);
    },
    deliver: (events) => hub.publish(events),
    onRead: () => reads.inc(),
  });
  const hub = new ChangeHub(o.db, sc.replayHours, sc.maxQueuedEvents, listener, (event: ChangeEvent) =>
    latency.observe(Math.max(0, Date.now() - new Date(event.occurredAt).getTime()) / 1000),
  );
  await listener.start();

  const sockets = new Set<SocketState>();
  const perToken = new Map<string, number>();
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [o.registry],
      collect() {
        this.set(read());
      },
    });
  gauge('graphql_ws_sockets', 'Open GraphQL WebSockets (graphql-ws) on this instance.', () => sockets.size);
  gauge('graphql_subscriptions_active', 'Subscriptions running on this instance.', () => hub.size);
  gauge('graphql_subscription_listener_up', "1 while the change listener's connection is up, else 0.", () =>
    listener.status.status === 'LISTENING' ? 1 : 0,
  );
  gauge(
    'graphql_subscription_listener_polling',
    '1 while the change listener reads the change log (this instance has a live subscription), else 0.',
    () => (listener.polling ? 1 : 0),
  );

  const close = (state: SocketState, code: number, reason: string) => {
    if (state.socket.readyState !== state.socket.OPEN) return;
    state.socket.close(code, reason);
    // A peer that no longer reads never answers the close frame: do not hold its buffers for ws's 30 s.
    setTimeout(() => state.socket.terminate(), 1_000).unref();
  };
  const slowConsumer = (state: SocketState, why: string) => {
    if (state.socket.readyState !== state.socket.OPEN) return;
    logger.warn('subscriptions: slow consumer closed', { why, principal: state.principal?.id });
    close(state, CLOSE_CODES.SLOW_CONSUMER, `Slow consumer: ${why}; reconnect with after: <last cursor>`);
  };
  // Never the request's own Host: under DNS rebinding, Origin and Host both carry the attacker's
  // name. Allowed: the configured origins (SUBSCRIPTION_ALLOWED_ORIGINS and the dashboards of
  // CORS_ALLOWED_ORIGINS), the tunnel's public hostname, and loopback pages (the IDE on this machine).
  const allowed = new Set([...sc.allowedOrigins, ...config.security.corsAllowedOrigins]);
  if (config.tunnel.enabled) allowed.add(`https://${config.tunnel.subdomain}.${config.tunnel.domain}`);
  const allowedOrigin = (request: IncomingMessage): boolean => {
    const origin = request.headers.origin;
    if (!origin) return true; // not a browser: tokens, not cookies, protect the socket
    return allowed.has(origin) || isLoopbackOrigin(origin);
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.graphql.bodyLimitBytes });
  let draining = false;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (draining) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!allowedOrigin(request)) {
      logger.warn('subscriptions: WebSocket refused, origin not allowed', { origin: request.headers.origin });
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  o.httpServer.on('upgrade', onUpgrade);

  // Sockets arriving together with one token (a reconnect storm after another instance drained)
  // share one check: the authenticator's cache only helps once the first check is done.
  const checking = new Map<string | undefined, Promise<Principal>>();
  const authenticate = (authorization: string | undefined): Promise<Principal> => {
    let check = checking.get(authorization);
    if (!check) {
      check = security.authenticator.authenticate(authorization).finally(() => checking.delete(authorization));
      checking.set(authorization, check);
    }
    return check;
  };

  const stateOf = (ctx: Ctx): SocketState => (ctx.extra.state ??= { socket: ctx.extra.socket, active: new Set() });
  const refuse = (message: string, code: ErrorCode, details: Record<string, unknown> = {}) => [apiError(code, message, { details })];

  /** A subscribe, through the pipeline an HTTP request goes through (parse, validation, operation, cost, budget, context). */
  const prepare = async (state: SocketState, id: string, payload: SubscribePayload): Promise<ExecutionArgs | GraphQLError[]> => {
    const principal = state.principal as Principal;
    // The slot is taken before anything is awaited, so subscribes arriving together count.
    if (state.active.size >= sc.maxPerSocket) {
      return refuse(
        `This socket already runs ${sc.maxPerSocket} subscriptions (SUBSCRIPTION_MAX_PER_SOCKET): complete one, or open another socket`,
        'SUBSCRIPTION_LIMIT_EXCEEDED',
        {
          limit: sc.maxPerSocket,
        },
      );
    }
    state.active.add(id);
    const document = pipeline.document(payload.query);
    if (Array.isArray(document)) return document;
    const operation = pipeline.operation(document, getOperationAST(document, payload.operationName), payload.operationName, 'ws');
    if (operation instanceof GraphQLError) return [operation];
    const variables = payload.variables ?? undefined;
    // Charged once, at subscribe: one event's cost, at least SUBSCRIPTION_MIN_COST (docs/security.md).
    const charged = await pipeline.charge(principal, pipeline.cost(document, operation, variables, SUBSCRIPTION_MIN_COST));
    if (charged.refusal) return [charged.refusal];
    const contextValue: SubscriptionContext = {
      ...pipeline.context(principal, randomUUID()),
      changes: hub,
      db: o.db,
      slowConsumer: () => slowConsumer(state, 'still behind 30 s after its queue overflowed'),
      shareKey: JSON.stringify([principal.role, payload.query, payload.operationName ?? null, variables ?? null]),
    };
    const args: ExecutionArgs = { schema, document, operationName: payload.operationName, variableValues: variables, contextValue };
    return args;
  };

  // Live events only: a replayed page was read from the primary just now, and is read there again.
  const { replicas } = o;
  const eventRoute =
    replicas && ((event: ChangeEvent) => (event.receivedAt === undefined ? undefined : replicas.routeSince(event.receivedAt)));

  const server = useServer<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage; state?: SocketState }>(
    {
      schema,
      connectionInitWaitTimeout: sc.initTimeoutMs,
      subscribe: (args) => subscribeShared(args, (args.contextValue as SubscriptionContext).shareKey, eventRoute),
      async onConnect(ctx) {
        const state = stateOf(ctx);
        const params = ctx.connectionParams ?? {};
        const given = params.Authorization ?? params.authorization;
        const authorization = typeof given === 'string' ? given : undefined;
        let principal: Principal;
        try {
          principal = await authenticate(authorization);
        } catch (error) {
          const message = error instanceof Error ? error.message : 'Authentication failed';
          const unavailable = (error as GraphQLError)?.extensions?.code === 'SERVICE_UNAVAILABLE';
          logger.warn('subscriptions: authentication refused', { reason: message });
          close(state, unavailable ? CLOSE_CODES.TRY_AGAIN_LATER : CLOSE_CODES.UNAUTHORIZED, message.slice(0, 120));
          return false;
        }
        // Gone while its token was checked: onClose has run already, so it must not be counted.
        if (state.socket.readyState !== state.socket.OPEN) return false;
        const key = budgetKey(principal);
        const open = perToken.get(key) ?? 0;
        if (open >= sc.maxSocketsPerToken) {
          close(
            state,
            CLOSE_CODES.TOO_MANY_SOCKETS,
            `Too many sockets for this token (SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN=${sc.maxSocketsPerToken})`,
          );
          return false;
        }
        perToken.set(key, open + 1);
        Object.assign(state, { principal, authorization });
        sockets.add(state);
        return true;
      },
      async onSubscribe(ctx, id, payload) {
        const state = stateOf(ctx);
        const refused = await prepare(state, id, payload);
        if (Array.isArray(refused)) state.active.delete(id);
        return refused;
      },
      onNext(ctx, _id, _payload, _args, result) {
        const state = stateOf(ctx);
        if (state.socket.bufferedAmount > sc.maxBufferedBytes) {
          slowConsumer(state, `send buffer over ${sc.maxBufferedBytes} bytes`);
        }
        if (!result.errors?.length) return;
        return { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) };
      },
      onError(_ctx, _id, _payload, errors) {
        return errors.map((e) => formatError(e.toJSON(), e));
      },
      onComplete(ctx, id) {
        stateOf(ctx).active.delete(id);
      },
      onClose(ctx) {
        const state = ctx.extra.state;
        if (!state || !sockets.delete(state) || !state.principal) return;
        const key = budgetKey(state.principal);
        const left = (perToken.get(key) ?? 1) - 1;
        if (left > 0) perToken.set(key, left);
        else perToken.delete(key);
      },
    },
    wss,
    sc.keepAliveMs,
  );

  // graphql-ws writes a socket's error to console.error with its stack (14 lines in a JSON log), and
  // a frame over maxPayload is one: a client's mistake, not ours. One log line instead; ws has
  // already closed such a socket with 1009 (message too big).
  wss.on('connection', (socket: WebSocket) => {
    socket.removeAllListeners('error');
    socket.once('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        logger.warn('subscriptions: WebSocket frame over the size limit, socket closed (1009)', { limit: config.graphql.bodyLimitBytes });
        return;
      }
      logger.warn('subscriptions: WebSocket error, socket closed', { error: error.message, code: error.code });
      if (socket.readyState === socket.OPEN) socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
  });

  // Tokens are checked again while sockets stay open: a revoked or expired token closes its
  // sockets. Through the same authenticator (and its AUTH_TOKEN_CACHE_SECONDS cache), once per
  // token per round, so a revocation made elsewhere is seen within the cache time plus one round.
  const recheckMs = Math.max(1_000, (config.security.auth.tokenCacheSeconds * 1000) / 2);
  const recheck = setInterval(() => {
    const byCredential = new Map<string, SocketState[]>();
    for (const state of sockets) {
      if (state.authorization === undefined) continue;
      const list = byCredential.get(state.authorization) ?? [];
      list.push(state);
      byCredential.set(state.authorization, list);
    }
    for (const [authorization, states] of byCredential) {
      authenticate(authorization).catch((error: GraphQLError) => {
        // A database outage is no reason to drop sockets: only a token found bad closes them.
        if (error?.extensions?.code !== 'UNAUTHENTICATED') return;
        for (const state of states) close(state, CLOSE_CODES.UNAUTHORIZED, error.message.slice(0, 120));
      });
    }
  }, recheckMs);
  recheck.unref();

  let drained: Promise<void> | undefined;
  const drain = (timeoutMs = 5_000) => (drained ??= drainNow(timeoutMs));
  const drainNow = async (timeoutMs: number) => {
    draining = true;
    clearInterval(recheck);
    clearInterval(bufferCheck);
    await listener.stop();
    // In-flight events: what the listener already read is in the subscriptions' queues and the
    // sockets' buffers; wait (bounded) for them to go out.
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && (hub.pending() > 0 || [...wss.clients].some((s) => s.bufferedAmount > 0))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const socket of wss.clients)
      socket.close(CLOSE_CODES.SERVICE_RESTART, 'Service restart: reconnect and resume with after: <last cursor>');
    const closed = Date.now() + 1_000;
    while (wss.clients.size > 0 && Date.now() < closed) await new Promise((r) => setTimeout(r, 20));
    for (const socket of wss.clients) socket.terminate();
    o.httpServer.off('upgrade', onUpgrade);
    await Promise.resolve(server.dispose()).catch(() => undefined);
  };
  // Slow consumers, also between events: graphql-ws waits for each send to be written before the
  // next, so a peer that stops reading leaves its data in the socket's buffer.
  const bufferCheck = setInterval(() => {
    for (const state of sockets)
      if (state.socket.bufferedAmount > sc.maxBufferedBytes) slowConsumer(state, `send buffer over ${sc.maxBufferedBytes} bytes`);
  }, 1_000);
  bufferCheck.unref();

  return {
    listenerState: () => listener.status,
    plugin: {
      // Costs nothing per request while this instance has no subscription.
      async requestDidStart() {
        if (!listener.polling) return;
        return {
          async willSendResponse({ operation }) {
            if (operation?.operation === OperationTypeNode.MUTATION) listener.poke(); // its writes have committed
          },
        };
      },
    },
    drain,
    async watch(table) {
      const events = await hub.subscribe(
        { table, replayWhere: 'TRUE', replayParams: [], matches: () => true },
        { onOverflow: () => undefined },
      );
      let next: Promise<unknown> | undefined;
      return {
        async wait(ms) {
          next ??= events.next().finally(() => (next = undefined));
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([next, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
          clearTimeout(timer);
        },
        async close() {
          await events.return?.();
        },
      };
    },
  };
}

export type { GraphQLFormattedError };

/** http(s)://localhost, 127.x.x.x or [::1], any port: a page served on this machine. */
function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  } catch {
    return false;
  }
}
