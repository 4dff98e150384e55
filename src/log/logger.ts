/**
 * Structured JSON logs (pino). One logger for the process; the access log is a child with
 * `kind: "access"`, written once per request in the lifecycle's log step and optionally sampled.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * The process's logger, on stderr. Its destination writes bytes (`contentMode: 'buffer'`): the
 * access log hands it lines already encoded as UTF-8 (access-log.ts), which a string destination
 * would measure and encode a second time; pino's own lines are encoded on their way in.
 * `destination` (tests) is any writable stream; it gets strings from pino and Buffers from the
 * access log.
 */
export function createLogger(level = process.env.SWITCHYARD_LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (destination) return pino(opts, destination as pino.DestinationStream);
  const stderr = pino.destination({ dest: 2, sync: false, contentMode: 'buffer' });
  // pino's hook is typed string → string; a buffer destination takes the Buffer.
  const toBytes = (s: string) => Buffer.from(s) as unknown as string;
  return pino({ ...opts, hooks: { streamWrite: toBytes } }, stderr);
}
