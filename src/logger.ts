import winston from 'winston';
import TransportStream from 'winston-transport';
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
  return winston.createLogger({ level: config.logLevel, format, transports: [new LineTransport(options.stderr ? 'stderr' : 'stdout')] });
}

const MESSAGE = Symbol.for('message');
const pending = { stdout: [] as string[], stderr: [] as string[] };

/** Writes what is buffered for a stream: one write for every line of the event-loop turn. */
function flush(name: keyof typeof pending): void {
  const lines = pending[name];
  if (lines.length === 0) return;
  pending[name] = [];
  process[name].write(`${lines.join('\n')}\n`);
}
// Lines logged just before process.exit() are written on the way out (stdout and stderr writes to
// files, pipes and terminals are synchronous there).
process.once('exit', () => {
  flush('stdout');
  flush('stderr');
});

/**
 * A winston transport for the process's stdout (or stderr, for tools whose stdout is data): the
 * lines of one event-loop turn leave in one write. Winston's Console transport writes each line
 * with a system call of its own and schedules an event per line; under load that was ~4 % of a
 * create's CPU (bench/RESULTS.md, round 10). Lines keep their order; every logger shares the buffer.
 */
class LineTransport extends TransportStream {
  constructor(private readonly stream: keyof typeof pending) {
    super();
  }

  override log(info: Record<symbol, unknown>, next: () => void): void {
    if (pending[this.stream].push(info[MESSAGE] as string) === 1) setImmediate(flush, this.stream);
    next();
  }
}
