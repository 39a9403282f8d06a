import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { openDatabase } from './db/database';
import { createApolloServer } from './graphql/apollo';
import { createSchema } from './graphql/schema';
import { createHttpApp } from './http';
import type { Logger } from './logger';
import { createServices, type Services } from './services';
import { GatewayMetrics } from './health/gateway-metrics';
import { createMetricsPlugin } from './health/metrics.plugin';
import { HealthMonitor } from './health/monitor';
import { createProbeRouter } from './health/probes';

export interface Gateway {
  url: string;
  port: number;
  dataSource: DataSource;
  /** Stops accepting, lets in-flight requests finish, closes the pool and the embedded database. */
  stop(): Promise<void>;
}

/**
 * Start-up in order: database (and migrations), schema, HTTP server listening, health monitor.
 * Shutdown reverses it.
 */
export async function startGateway(config: Config, logger: Logger): Promise<Gateway> {
  const database = await openDatabase(config.db, logger);
  let services: Services | undefined;
  try {
    const schema = await createSchema();
    services = createServices(database.dataSource, config, logger);
    const { health } = services;
    const metrics = new GatewayMetrics(() => health.poolCounters());
    health.onProbe((probe) => metrics.observeDatabase(probe.connected, probe.responseTimeMs));
    const httpServer = createServer();
    const apollo = createApolloServer(schema, httpServer, config, logger, [createMetricsPlugin(metrics)]);
    await apollo.start();
    httpServer.on('request', createHttpApp(apollo, services, config, logger, [createProbeRouter(health, metrics, logger)]));
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    const { port } = httpServer.address() as AddressInfo;
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
        await monitor.stop();
        await apollo.stop(); // the drain plugin closes the HTTP server and waits for in-flight requests
        await health.close();
        await database.close();
      },
    };
  } catch (error) {
    await services?.health.close();
    await database.close();
    throw error;
  }
}
