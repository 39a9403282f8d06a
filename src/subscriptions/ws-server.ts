import { OperationTypeNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config';
import type { HttpRequest } from '../http/respond';
import type { HttpServer } from '../http/server';
import type { Context } from '../graphql/context';
import type { ReplicaSet } from '../db/replicas';
import type { Logger } from '../logger';
import type { OperationPipeline } from '../security/pipeline';
import type { Security } from '../security/security';
import type { ListenerState } from './change-listener';
import type { ChangeEvent } from './change-log';
import { startLiveFeed, watchTable, type ChangeWatch } from './live-feed';
import { subscribeShared } from './shared-execution';
import type { SubscriptionContext } from './subscription.resolver';
import { SocketAuth } from './ws-auth';
import { Backpressure } from './ws-backpressure';
import { drainSockets } from './ws-drain';
import { LiveMetrics } from './ws-metrics';
import { prepareSubscribe } from './ws-operations';
import type { SocketState } from './ws-socket';
import { createUpgradeHandler, logSocketErrors } from './ws-upgrade';

export { CLOSE_CODES } from './ws-socket';
export type { ChangeWatch };

type Extra = { socket: WebSocket; request: HttpRequest; state?: SocketState };

export interface LiveUpdates {
  listenerState(): ListenerState;
  /** For Apollo (HTTP): after a mutation through this instance, its subscribers get the change at once rather than at the next poll. */
  plugin: ApolloServerPlugin<Context>;
  /** Stops reading changes, lets queued events go out, then closes every socket with 1012. */
  drain(timeoutMs?: number): Promise<void>;
  /** Watches one table's changes from now (claimTask's waitSeconds): `wait` resolves at the next change or after `ms`. */
  watch(table: 'tasks'): Promise<ChangeWatch>;
}

export interface LiveUpdatesOptions {
  httpServer: HttpServer;
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
 * schema, tokens, roles, pipeline (parse, validation, cost, budget, context) and error formatting
 * as HTTP. Events come from the change log (live-feed.ts). What is the socket's own is here and
 * beside it: the upgrade and origin (ws-upgrade.ts), connection_init and the token recheck
 * (ws-auth.ts), keep-alive, slow consumers (ws-backpressure.ts), the drain (ws-drain.ts).
 */
export async function startLiveUpdates(o: LiveUpdatesOptions): Promise<LiveUpdates> {
  const { config, logger, pipeline, schema } = o;
  const sc = config.subscriptions;
  const formatErrors = (errors: readonly { toJSON(): GraphQLFormattedError }[]) => errors.map((e) => pipeline.formatError(e.toJSON(), e));
  const metrics = new LiveMetrics(o.registry);
  const { listener, hub } = await startLiveFeed(config, logger, o.db, metrics);

  const auth = new SocketAuth({
    authenticator: o.security.authenticator,
    logger,
    maxSocketsPerToken: sc.maxSocketsPerToken,
    recheckMs: Math.max(1_000, (config.security.auth.tokenCacheSeconds * 1000) / 2),
  });
  const backpressure = new Backpressure(logger, sc.maxBufferedBytes, auth.sockets);
  metrics.registerGauges({
    sockets: () => auth.sockets.size,
    subscriptions: () => hub.size,
    listenerUp: () => listener.status.status === 'LISTENING',
    polling: () => listener.polling,
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.graphql.bodyLimitBytes });
  let draining = false;
  const onUpgrade = createUpgradeHandler(config, logger, wss, o.path ?? '/graphql', () => draining);
  o.httpServer.on('upgrade', onUpgrade);

  const stateOf = (ctx: WsContext<Record<string, unknown>, Extra>): SocketState =>
    (ctx.extra.state ??= { socket: ctx.extra.socket, active: new Set() });
  const subscribeOptions = {
    schema,
    pipeline,
    hub,
    db: o.db,
    maxPerSocket: sc.maxPerSocket,
    slowConsumer: (state: SocketState) => backpressure.slowConsumer(state, 'still behind 30 s after its queue overflowed'),
  };
  // Live events only: a replayed page was read from the primary just now, and is read there again.
  const { replicas } = o;
  const eventRoute =
    replicas && ((event: ChangeEvent) => (event.receivedAt === undefined ? undefined : replicas.routeSince(event.receivedAt)));

  const server = useServer<Record<string, unknown>, Extra>(
    {
      schema,
      connectionInitWaitTimeout: sc.initTimeoutMs,
      subscribe: (args) => subscribeShared(args, (args.contextValue as SubscriptionContext).shareKey, eventRoute),
      onConnect: (ctx) => auth.connect(stateOf(ctx), ctx.connectionParams),
      async onSubscribe(ctx, id, payload) {
        const state = stateOf(ctx);
        const refused = await prepareSubscribe(subscribeOptions, state, id, payload);
        if (Array.isArray(refused)) state.active.delete(id);
        return refused;
      },
      onNext(ctx, _id, _payload, _args, result) {
        backpressure.check(stateOf(ctx));
        if (!result.errors?.length) return;
        return { ...result, errors: formatErrors(result.errors) };
      },
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors),
      onComplete(ctx, id) {
        stateOf(ctx).active.delete(id);
      },
      onClose: (ctx) => auth.disconnect(ctx.extra.state),
    },
    wss,
    sc.keepAliveMs,
  );
  logSocketErrors(wss, logger, config.graphql.bodyLimitBytes);

  let drained: Promise<void> | undefined;
  const drainNow = async (timeoutMs: number) => {
    draining = true;
    auth.stop();
    backpressure.stop();
    await drainSockets(wss, listener, hub, timeoutMs);
    o.httpServer.off('upgrade', onUpgrade);
    await Promise.resolve(server.dispose()).catch(() => undefined);
  };

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
    drain: (timeoutMs = 5_000) => (drained ??= drainNow(timeoutMs)),
    watch: (table) => watchTable(hub, table),
  };
}

export type { GraphQLFormattedError };
