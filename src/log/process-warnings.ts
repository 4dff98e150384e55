/**
 * Node's process warnings (deprecations, MaxListenersExceededWarning, …) as JSON log lines at
 * level warn, instead of the plain-text lines Node writes to stderr itself, which a JSON log
 * pipeline cannot parse. Since Node 22, DEP0060 (util._extend, which http-proxy calls on the
 * first WebSocket upgrade) is such a warning. Only for the long-running commands: a library
 * user keeps Node's default.
 */
import type { Logger } from './logger.js';

export function logProcessWarnings(logger: Logger): void {
  // Node's default printer is an ordinary 'warning' listener; with it gone, nothing is lost:
  // every warning still reaches this one.
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => logger.warn({ warning: w.name, code: w.code }, w.message));
}
