import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../../src/logger';

export interface CapturedLog {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** A real winston logger that keeps every entry (as JSON objects) for a test to inspect. */
export function captureLogs(level = 'debug'): { logger: Logger; entries: CapturedLog[] } {
  const entries: CapturedLog[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) entries.push(JSON.parse(line));
      done();
    },
  });
  const logger = winston.createLogger({ level, format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, entries };
}
