/**
 * Where the active rules come from: the rules file (watched for edits), or the Redis store with
 * the snapshot and the file as fallbacks (redis-rule-source.ts). Both feed ActiveRules.
 */
import type { GatewayConfig } from '../config/gateway-config.js';
import { formatIssue } from '../config/yaml-source.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import type { RuleContext } from '../rules/rule-set.js';
import type { ActiveRules } from './active-rules.js';
import { RedisRuleSource } from './redis-rule-source.js';
import { RuleFileWatcher, readRuleFile } from './rule-file.js';

export interface RuleSource {
  readonly kind: 'file' | 'redis';
  /** Re-reads the rules now (SIGHUP): the file source reads its file; Redis polls on its own. */
  reload?(): void;
  stop(): Promise<void>;
}

export function ruleContextOf(config: GatewayConfig): RuleContext {
  return { backends: config.backends.map((b) => b.name) };
}

export async function startRuleSource(config: GatewayConfig, active: ActiveRules, metrics: Metrics, logger: Logger): Promise<RuleSource> {
  const rc = ruleContextOf(config);
  if (config.rules.redis) return RedisRuleSource.start(config, config.rules.redis, rc, active, metrics, logger);

  // A broken rules file at start is fatal: there is nothing good to fall back on.
  const rules = readRuleFile(config.rules.file, rc);
  active.apply(rules, { version: 0, source: 'file' });
  const watcher = new RuleFileWatcher(
    config.rules.file,
    rc,
    {
      applied(next) {
        active.apply(next, { version: 0, source: 'file' });
        metrics.rulesReloads.inc({ result: 'applied' });
        logger.info({ file: config.rules.file, routes: next.routes.length }, 'rules file applied');
      },
      invalid(err) {
        metrics.rulesReloads.inc({ result: 'invalid' });
        logger.error({ file: config.rules.file, errors: err.issues.map(formatIssue) }, 'rules file invalid; keeping the active rules');
      },
      failed(err) {
        metrics.rulesReloads.inc({ result: 'error' });
        logger.error({ file: config.rules.file, err }, 'rules file could not be read; keeping the active rules');
      },
      unchanged() {
        logger.info({ file: config.rules.file }, 'rules file unchanged');
      },
    },
    rules.text,
  );
  if (config.rules.watch) watcher.start();
  return {
    kind: 'file',
    reload: () => watcher.reload(),
    async stop() {
      watcher.stop();
    },
  };
}
