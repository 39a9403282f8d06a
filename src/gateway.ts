import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { catalogue } from './catalogue';
import { cancelRunningStatements, openControlDataSource, openDatabase } from './db/database';
import { createApolloServer } from './graphql/apollo';
import { createGraphQLEndpoint } from './http/graphql.endpoint';
import { createHttpHandler } from './http/router';
import { HttpDrain } from './http/drain';
import { createHttpServer } from './http/server';
import type { Logger } from './logger';
import { createAnonymousWritePlugin } from './security/anonymous.plugin';
import { createCostPlugin } from './security/cost.plugin';
import { createOperationResolutionPlugin } from './security/operation-resolution.plugin';
import { createOperationPipeline } from './security/pipeline';
import { createSecurity } from './security/security';
import { warnIfSuperuser } from './db/database-roles';
import { createGatewaySchema, createServices, type Services } from './services';
import { registerQueueGauges } from './queue/queue.metrics';
import { TunnelService } from './tunnel/tunnel.service';
import { GatewayMetrics } from './health/prometheus';
import { createPrometheusPlugin } from './health/prometheus.plugin';
import { registerReplicaMetrics } from './health/replica.metrics';
import { createReadRoutingPlugin } from './graphql/plugins/read-routing.plugin';
import { HealthMonitor } from './health/monitor';
import { executionLogStore } from './executions/log-retention';
import { registerRetentionGauges } from './retention/retention.metrics';
import { createIdeRoute } from './ide/ide.router';
import { createProbeRoute } from './health/probes';
import { startLiveUpdates } from './subscriptions/ws-server';

export interface Gateway {
  url: string;
  port: number;
  dataSource: DataSource;
  /**
   * The graceful drain (SIGTERM): /ready 503 at once; serving on for SHUTDOWN_DELAY_MS; then no
   * new connections, every request already read answered with `Connection: close`, idle keep-alive
   * sockets closed; at SHUTDOWN_TIMEOUT_MS from the call, running statements are cancelled and the
   * rest is cut. Then the pools and the embedded database close. `clean` is false when anything
   * was cut (main.ts exits non-zero).
   */
  stop(): Promise<{ clean: boolean }>;
}

/**
 * Start-up in order: database (and migrations), Cloudflare tunnel config written, schema, HTTP server
 * listening, health monitor. Shutdown reverses it. The tunnel config is checked before anything
 * starts; with PORT=0 (tests) the port is known only once the server has bound, so the file is
 * written right after.
 */
export async function startGateway(config: Config, logger: Logger): Promise<Gateway> {
  const tunnel = new TunnelService(config.tunnel, config, logger);
  tunnel.precheck();
  const database = await openDatabase(config.db, catalogue, logger);
  const closers: (() => Promise<void>)[] = [];
  let services: Services | undefined;
  try {
    if (config.port !== 0) tunnel.write(config.port);
    const schema = await createGatewaySchema(config.security.input);
    const control = await openControlDataSource(config.db, catalogue, logger);
    services = createServices(database.dataSource, config, logger, tunnel, control);
    const { health, sql } = services;
    const security = createSecurity(config, control, services, logger);
    // Parse, validation, operation, cost, budget and context: one set of steps for HTTP and WebSocket.
    const pipeline = createOperationPipeline({ schema, config, logger, services, rateLimiter: security.rateLimiter });
    closers.push(
      () => security.close(),
      () => sql.close(),
      () => control.destroy(),
    );
    await warnIfSuperuser(database.dataSource, config.db, logger);
    await sql.checkRole(config.isProduction, logger);
    const metrics = new GatewayMetrics(() => health.poolCounters());
    health.onProbe((probe) => metrics.observeDatabase(probe.connected, probe.responseTimeMs));
    const httpServer = createHttpServer(config.http);
    const drain = new HttpDrain(httpServer); // before the handler: it sees every request first
    const { replicas } = database;
    // GraphQL subscriptions over graphql-ws on this server's /graphql (src/subscriptions/).
    const live = await startLiveUpdates({
      httpServer,
      schema,
      config,
      logger,
      security,
      pipeline,
      db: database.dataSource,
      registry: metrics.registry,
      replicas,
    });
    closers.push(() => live.drain());
    // Agent work (src/queue/): claimTask's waitSeconds wakes on the change log; this instance reaps expired leases.
    services.queue.useChangeWatcher(() => live.watch('tasks'));
    services.queue.startReaper();
    registerQueueGauges(metrics.registry, () => services!.queue.stats());
    const { queue } = services;
    closers.unshift(() => queue.stopReaper());
    health.watchListener(() => live.listenerState());
    if (replicas) {
      health.watchReplicas(() => replicas.snapshot());
      registerReplicaMetrics(metrics.registry, replicas);
    }
    // Webhooks (src/webhooks/): this instance queues and sends deliveries alongside the others.
    const { webhookDispatcher } = services;
    webhookDispatcher.registerMetrics(metrics.registry);
    if (config.webhooks.dispatch) webhookDispatcher.start();
    closers.unshift(() => webhookDispatcher.stop());
    // Metrics partitions ahead now, retention every RETENTION_INTERVAL_MINUTES (src/retention/).
    const { retention } = services;
    retention.register(executionLogStore(config.retention.executionLogDays));
    await retention.start();
    closers.unshift(() => retention.stop());
    health.watchStores(() => retention.stats());
    registerRetentionGauges(metrics.registry, () => retention.stats());
    const apollo = createApolloServer(schema, config, logger, {
      validationRules: pipeline.addedRules,
      parseOptions: pipeline.parseOptions,
      formatError: pipeline.formatError,
      operationResolution: createOperationResolutionPlugin(pipeline),
      plugins: [
        // Only where anonymous reads are open: elsewhere it would run a hook per request for nothing.
        ...(config.security.auth.anonymousRead ? [createAnonymousWritePlugin()] : []),
        createCostPlugin({ pipeline, rateLimiter: security.rateLimiter }),
        createPrometheusPlugin(metrics),
        live.plugin,
        // Read replicas: queries to a replica (after X-Read-After), mutations to the primary.
        ...(replicas ? [createReadRoutingPlugin(replicas)] : []),
      ],
    });
    await apollo.start();
    const routes = [
      createProbeRoute(health, metrics, logger, () => drain.draining, config.security.metrics),
      ...(config.ide.enabled ? [createIdeRoute({ tokenRequired: !config.security.auth.anonymousRead })] : []),
    ];
    httpServer.on(
      'request',
      createHttpHandler(createGraphQLEndpoint(apollo, services, config, logger, security, pipeline), config, logger, routes),
    );
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    const { port } = httpServer.address() as AddressInfo;
    if (config.port === 0) {
      try {
        tunnel.write(port);
      } catch (error) {
        await apollo.stop();
        throw error;
      }
    }
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `http://${host}:${port}/graphql`;
    logger.info(`gateway listening on ${url}`);
    const monitor = new HealthMonitor(config.health, health, metrics, services.metrics, logger);
    monitor.start();
    return {
      url,
      port,
      dataSource: database.dataSource,
      async stop() {
        const deadline = Date.now() + config.shutdown.timeoutMs;
        drain.start();
        logger.info(`stopping: /ready answers 503; serving on for ${config.shutdown.delayMs} ms (SHUTDOWN_DELAY_MS)`);
        if (config.shutdown.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdown.delayMs));
        // WebSockets first: they get a close frame (1012, reconnect elsewhere with the cursor) after
        // their queued events; the HTTP drain below would cut their sockets without one.
        await live.drain();
        logger.info(
          `stopping: no new connections; answering the ${drain.running().length} request(s) in flight (deadline in ${deadline - Date.now()} ms)`,
        );
        const clean = await drain.close(deadline);
        if (!clean) {
          const cut = drain.running();
          const cancelled = await cancelRunningStatements(database.dataSource, control).catch(() => 0);
          // The cancelled statements' requests get their error answers if they can within a second.
          await drain.close(Date.now() + 1_000);
          logger.error(
            `shutdown deadline SHUTDOWN_TIMEOUT_MS=${config.shutdown.timeoutMs} reached: cancelled ${cancelled} running statement(s); cut ${cut.length} request(s) in flight: ${cut.map((r) => `${r.method} ${r.url} (${Date.now() - r.started} ms)`).join(', ')}`,
            { cancelledStatements: cancelled, cutRequests: cut },
          );
          drain.destroyAll();
        }
        await monitor.stop();
        await apollo.stop();
        for (const close of closers) await close();
        await health.close();
        logger.info('stopping: closing the database pool');
        await database.close();
        logger.info(clean ? 'stopped' : 'stopped after cutting requests at the deadline');
        return { clean };
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    await services?.health.close();
    await database.close();
    throw error;
  }
}
