/**
 * `switchyard gateway [--config FILE]`: runs the gateway until SIGTERM or SIGINT, then stops
 * gracefully (in-flight requests finish, up to --drain seconds) and exits 0. SIGHUP re-reads the
 * rules file, the products file of an in-process pipeline and the TLS certificates of the
 * listeners (workers: the primary passes it on).
 */

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Gateway } from '../gateway/gateway.js';
import { runPrimary, runWorker } from '../gateway/workers.js';
import { createLogger } from '../log/logger.js';
import { logProcessWarnings } from '../log/process-warnings.js';
import { defaultConfigPath, loadConfigOrExit, onHangup, stopSignal, UsageError } from './common.js';

export const GATEWAY_USAGE = 'switchyard gateway [--config FILE] [--drain SECONDS] [--workers N|auto]';

export async function gatewayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      drain: { type: 'string', default: '10' },
      workers: { type: 'string', default: '1' },
    },
  });
  const config = loadConfigOrExit(defaultConfigPath(values.config));
  const logger = createLogger(config.log.level);
  logProcessWarnings(logger);
  const drainMs = Math.max(0, Number(values.drain) * 1000 || 0);
  const workers = values.workers === 'auto' ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256)
    throw new UsageError(`--workers expects a number from 1 to 256 or "auto", got ${JSON.stringify(values.workers)}`);
  if (cluster.isWorker) {
    await runWorker(config, logger.child({ worker: cluster.worker?.id }), drainMs);
    logger.flush();
    return 0;
  }
  if (workers > 1) {
    await runPrimary(config, workers, logger, drainMs);
    logger.info('stopped');
    logger.flush();
    return 0;
  }
  // Listening for the stop signal before starting: a supervisor (or a test) that sends SIGTERM as
  // soon as it reads "gateway started" must not find Node's default action (exit by signal).
  const stop = stopSignal();
  let gw: Gateway | undefined;
  // SIGHUP re-reads the rules file, the in-process pipeline's products file and the TLS
  // certificates (Node's default would end the process).
  onHangup(() => gw?.reload());
  gw = await Gateway.start(config, { logger });
  const signal = await stop;
  logger.info({ signal, drain_ms: drainMs }, 'stopping');
  await gw.stop(drainMs).catch((err: Error) => logger.error({ err }, 'stop failed'));
  logger.info('stopped');
  logger.flush();
  return 0;
}
