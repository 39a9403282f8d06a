import winston from 'winston';
import type { Config } from './config';

export type Logger = winston.Logger;

/** JSON lines in production (for log shippers), one readable line per event in development. */
export function createLogger(config: Pick<Config, 'logLevel' | 'isProduction'>): Logger {
  const format = config.isProduction
    ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json())
    : winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.errors({ stack: true }),
        winston.format.printf(({ timestamp, level, message, stack, ...rest }) => {
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          return `${timestamp} ${level} ${message}${extra}${stack ? `\n${stack}` : ''}`;
        }),
      );
  return winston.createLogger({ level: config.logLevel, format, transports: [new winston.transports.Console()] });
}
