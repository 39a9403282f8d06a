import winston from 'winston';
import type { Config } from './config';
import { redactFormat } from './redact';

export type Logger = winston.Logger;

/**
 * JSON lines in production (for log shippers), one readable line per event in development. Every
 * entry is redacted first (credentials, tokens, Authorization: src/redact.ts).
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'isProduction'>, options: { stderr?: boolean } = {}): Logger {
  const format = config.isProduction
    ? winston.format.combine(winston.format.errors({ stack: true }), redactFormat(), winston.format.timestamp(), winston.format.json())
    : winston.format.combine(
        winston.format.errors({ stack: true }),
        redactFormat(),
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.printf(({ timestamp, level, message, stack, ...rest }) => {
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          // timestamp and stack are the strings the timestamp and errors formats put there.
          return `${String(timestamp)} ${level} ${String(message)}${extra}${typeof stack === 'string' && stack ? `\n${stack}` : ''}`;
        }),
      );
  return winston.createLogger({
    level: config.logLevel,
    format,
    transports: [new winston.transports.Console(options.stderr ? { stderrLevels: Object.keys(winston.config.npm.levels) } : {})],
  });
}
