/**
 * Logging with pino: JSON lines to a file in the data dir, and pretty lines on
 * the terminal when there is one.
 */
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { FILES } from './data-dir.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const createLogger = (options: { dataDir: string; level: string; terminal: boolean }): Logger => {
  const streams: pino.StreamEntry[] = [{ level: options.level as pino.Level, stream: pino.destination({ dest: join(options.dataDir, FILES.log), mkdir: true, sync: true }) }];
  if (options.terminal) {
    streams.push({ level: options.level as pino.Level, stream: pretty({ colorize: process.stdout.isTTY, destination: 1, sync: true, ignore: 'pid,hostname' }) });
  }
  return pino({ level: options.level, base: undefined }, pino.multistream(streams));
};
