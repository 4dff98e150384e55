/**
 * The rollout side of a gateway whose rules come from Redis: the evidence it counts (hooked into
 * the log step and the shadow judge through the runtime), and a controller candidate. Without
 * rules.redis there is no fleet to share evidence with and no store to push to: nothing runs.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Evidence } from '../rollout/evidence.js';
import { Lease } from '../rollout/lease.js';
import { RolloutController } from '../rollout/controller.js';
import { Rollouts } from '../rollout/rollouts.js';
import type { RedisRuleSource } from '../store/redis-rule-source.js';
import { ruleContextOf } from '../store/rule-source.js';
import type { GatewayRuntime } from './contracts.js';

export interface RolloutRuntime {
  evidence: Evidence;
  rollouts: Rollouts;
  controller?: RolloutController;
  close(): Promise<void>;
}

export function startRolloutRuntime(rt: GatewayRuntime, source: RedisRuleSource): RolloutRuntime {
  const { config, metrics, logger } = rt;
  const cfg = config.rollouts;
  const prefix = config.rules.redis!.prefix;
  const evidenceOptions = { prefix, bucketMs: cfg.bucketMs, flushMs: cfg.flushMs, retainMs: cfg.retainMs };
  const evidence = new Evidence(source.client, evidenceOptions, logger).start();
  rt.evidence = evidence;
  const rollouts = new Rollouts(source.client, source.ruleStore, prefix, ruleContextOf(config), evidenceOptions, metrics);
  const controller = cfg.enabled
    ? new RolloutController(rollouts, new Lease(source.client, prefix, `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`, cfg.leaseMs), { tickMs: cfg.tickMs, roundTimeoutMs: cfg.leaseMs }, metrics, logger.child({ component: 'rollout' })).start()
    : undefined;
  metrics.rolloutLeader.set(0);
  return {
    evidence,
    rollouts,
    controller,
    async close() {
      await controller?.stop();
      rt.evidence = undefined;
      await evidence.close();
    },
  };
}
