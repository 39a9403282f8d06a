import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { openControlDataSource, openDatabase } from './db/database';
import { createApolloServer } from './graphql/apollo';
import { createSchema } from './graphql/schema';
import { createHttpApp } from './http';
import type { Logger } from './logger';
import { answerClientErrorsWithJson } from './security/http.guards';
import { checkDatabaseRoles, createSecurity } from './security/security';
import { createServices, type Services } from './services';
import { TunnelService } from './tunnel/tunnel.service';
import { GatewayMetrics } from './health/gateway-metrics';
import { createMetricsPlugin } from './health/metrics.plugin';
import { HealthMonitor } from './health/monitor';
import { createProbeRouter } from './health/probes';
import { startLiveUpdates } from './subscriptions/ws-server';

export interface Gateway {
  url: string;
  port: number;
  dataSource: DataSource;
  /** Stops accepting, lets in-flight requests finish, closes the pool and the embedded database. */
  stop(): Promise<void>;
}

/**
/**
 * Start-up in order: database (and migrations), Cloudflare tunnel config written, schema, HTTP server
 * listening, health monitor. Shutdown reverses it. The tunnel config is checked before anything
 * starts; with PORT=0 (tests) the port is known only once the server has bound, so the file is
 * written right after.
 */
export async function startGateway(config: Config, logger: Logger): Promise<Gateway> {
  const tunnel = new TunnelService(config.tunnel, config, logger);
  tunnel.precheck();
  const database = await openDatabase(config.db, logger);
  const closers: (() => Promise<void>)[] = [];
  let services: Services | undefined;
  try {
    if (config.port !== 0) tunnel.write(config.port);
    const schema = await createSchema(config.security.input);
    const control = await openControlDataSource(config.db, logger);
    services = createServices(database.dataSource, config, logger, tunnel, control);
    const { health } = services;
    const security = createSecurity(config, control, services, logger);
    closers.push(() => security.close(), () => control.destroy());
    await checkDatabaseRoles(config, database.dataSource, services, logger);
    const metrics = new GatewayMetrics(() => health.poolCounters());
    health.onProbe((probe) => metrics.observeDatabase(probe.connected, probe.responseTimeMs));
    const httpServer = createServer();
    answerClientErrorsWithJson(httpServer);
    // GraphQL subscriptions over graphql-ws on this server's /graphql (src/subscriptions/).
    const live = await startLiveUpdates({ httpServer, schema, config, logger, security, services, db: database.dataSource, registry: metrics.registry });
    closers.push(() => live.drain());
    health.watchListener(() => live.listenerState());
    const apollo = createApolloServer(schema, httpServer, config, logger, security, [createMetricsPlugin(metrics)]);
    await apollo.start();
    httpServer.on('request', createHttpApp(apollo, services, config, logger, security, [createProbeRouter(health, metrics, logger)]));
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
    const monitor = new HealthMonitor(config.health, health, metrics, database.dataSource, logger);
    monitor.start();
    return {
      url,
      port,
      dataSource: database.dataSource,
      async stop() {
        logger.info('stopping: closing the HTTP server after in-flight requests');
        await monitor.stop();
        await live.drain(); // before Apollo's HTTP drain, which would cut WebSockets without a close frame
        await apollo.stop(); // the drain plugin closes the HTTP server and waits for in-flight requests
        for (const close of closers) await close();
        await health.close();
        logger.info('stopping: closing the database pool');
        await database.close();
        logger.info('stopped');
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    await services?.health.close();
    await database.close();
    throw error;
  }
}
