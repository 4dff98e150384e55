/**
 * Structured JSON logs (pino). One logger for the process; the access log is a child with
 * `kind: "access"`, written once per request in the lifecycle's log step and optionally sampled.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level = process.env.SWITCHYARD_LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts, pino.destination({ dest: 2, sync: false }));
}
