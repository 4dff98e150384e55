/**
 * `switchyard gateway [--config FILE]`: runs the gateway until SIGTERM or SIGINT, then stops
 * gracefully (in-flight requests finish, up to --drain seconds) and exits 0.
 */
import { parseArgs } from 'node:util';
import { Gateway } from '../gateway/gateway.js';
import { createLogger } from '../log/logger.js';
import { defaultConfigPath, loadConfigOrExit } from './common.js';

export const GATEWAY_USAGE = 'switchyard gateway [--config FILE] [--drain SECONDS]';

export async function gatewayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      drain: { type: 'string', default: '10' },
    },
  });
  const config = loadConfigOrExit(defaultConfigPath(values.config));
  const logger = createLogger(config.log.level);
  const gw = await Gateway.start(config, { logger });
  const drainMs = Math.max(0, Number(values.drain) * 1000 || 0);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal, drain_ms: drainMs }, 'stopping');
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      gw.stop(drainMs).then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  logger.info('stopped');
  logger.flush();
  return 0;
}
