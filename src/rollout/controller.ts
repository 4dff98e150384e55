/**
 * The rollout controller (docs/rollouts.md, "The controller"). It runs in every gateway process;
 * the one holding the lease judges each rollout on every tick and moves it, the others stand by
 * and only export the state gauges. Every read and write goes to Redis: with Redis unreachable a
 * tick fails and nothing moves. A person's push in between wins: the move's compare-and-set
 * fails, and the next tick re-reads and re-judges; a split changed by a person pauses the rollout.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import type { Route } from '../rules/rule-set.js';
import { GATES } from './judge.js';
import type { Lease } from './lease.js';
import type { RolloutState } from './rollout-state.js';
import { formatPercent } from './split-edit.js';
import { shareOf, type Rollouts, type Snapshot } from './rollouts.js';

export interface ControllerOptions {
  tickMs: number;
  /** A round that takes longer (a Redis that hangs) is given up and the lease dropped. */
  roundTimeoutMs: number;
}

export class RolloutController {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly rollouts: Rollouts,
    private readonly lease: Lease,
    private readonly options: ControllerOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.tick(), this.options.tickMs);
    this.timer.unref();
    return this;
  }

  get leader(): boolean {
    return this.lease.value !== undefined;
  }

  /** One round: hold the lease, then judge and move every rollout. Rounds never overlap. */
  tick(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`round took longer than ${this.options.roundTimeoutMs}ms`)), this.options.roundTimeoutMs);
    });
    this.running = Promise.race([this.round(), timeout])
      .catch((err) => {
        // Redis unreachable or a write refused: nothing moved; the next tick starts over.
        this.lease.drop();
        this.logger.warn({ err: (err as Error).message }, 'rollout controller round failed; nothing moved');
      })
      .finally(() => {
        clearTimeout(timer);
        this.metrics.rolloutLeader.set(this.leader ? 1 : 0);
        this.running = undefined;
      });
    return this.running;
  }

  private async round(): Promise<void> {
    const leader = await this.lease.hold();
    this.metrics.rolloutLeader.set(leader ? 1 : 0);
    const snap = await this.rollouts.snapshot();
    if (!snap) return;
    this.rollouts.export(snap);
    if (!leader) return;
    for (const route of snap.rules.routes) {
      if (!route.rollout || this.stopped) continue;
      await this.step(snap, route);
    }
  }

  private async step(snap: Snapshot, route: Route): Promise<void> {
    const r = this.rollouts;
    const policy = route.rollout!;
    const lease = this.lease.value;
    const now = Date.now();
    let st = snap.states.get(route.name);
    if (!st || st.to !== policy.to || st.steps.join() !== policy.steps.join()) {
      const fresh = r.initial(route, policy, st?.rev ?? 0, now);
      if (await r.setState({ ...fresh, rev: fresh.rev - 1 }, {}, undefined, lease)) this.logger.info({ route: route.name, percent: fresh.percent }, 'rollout started');
      return;
    }
    if (st.state !== 'progressing' && st.state !== 'holding') return;
    if (st.breach) return; // held by a breach: only a person resumes
    const share = shareOf(route, policy.to);
    if (Math.abs(share - st.percent) > 1e-9) {
      // A person changed the split: theirs stands; the rollout waits for them to resume.
      const why = `split set to ${formatPercent(share)}% by ${snap.active.author} (version ${snap.active.version}); paused`;
      await r.setState(st, { state: 'paused', reason: why, by: 'rollout' }, 'manual_change', lease);
      this.logger.warn({ route: route.name, version: snap.active.version, author: snap.active.author }, 'rollout paused: the split was changed by a push');
      return;
    }
    if (st.stepIndex < 0) {
      await r.move(snap, route, st, { percent: policy.steps[0]!, stepIndex: 0, state: policy.steps.length === 1 ? 'complete' : 'progressing', reason: 'start', why: 'first step', author: 'rollout' }, lease);
      return;
    }
    const v = await r.verdict(policy, st, now);
    for (const g of v.gates) if (g.value !== null) this.metrics.rolloutGateValue.set({ route: route.name, gate: g.gate }, g.value);
    for (const gate of GATES) if (!v.gates.some((g) => g.gate === gate && g.value !== null)) this.metrics.rolloutGateValue.remove({ route: route.name, gate });

    if (v.action === 'promote') {
      const stepIndex = st.stepIndex + 1;
      const state = stepIndex === policy.steps.length - 1 ? 'complete' : 'progressing';
      const ok = await r.move(snap, route, st, { percent: policy.steps[stepIndex]!, stepIndex, state, reason: 'promote', why: 'gates passed', author: 'rollout', evidence: v.summary }, lease);
      if (ok) this.logger.info({ route: route.name, percent: policy.steps[stepIndex], evidence: v.summary }, 'rollout promoted');
      return;
    }
    if (v.action === 'breach') return this.breach(snap, route, st, v.breach!, v.summary, lease);
    const holding = v.missing.some((m) => !m.startsWith('time:'));
    const state = holding ? 'holding' : 'progressing';
    if (state !== st.state) await r.setState(st, { state, reason: holding ? `holding: ${v.missing.join('; ')}` : 'waiting for the interval' }, undefined, lease);
  }

  private async breach(snap: Snapshot, route: Route, st: RolloutState, why: string, evidence: string, lease: string | undefined): Promise<void> {
    const r = this.rollouts;
    const policy = route.rollout!;
    this.logger.warn({ route: route.name, breach: why, on_breach: policy.onBreach }, 'rollout gate breached');
    if (policy.onBreach === 'hold') {
      await r.setState(st, { state: 'holding', breach: why, reason: `breach: ${why}` }, 'breach_hold', lease);
      return;
    }
    if (policy.onBreach === 'step_back' && st.stepIndex > 0) {
      const stepIndex = st.stepIndex - 1;
      await r.move(snap, route, st, { percent: policy.steps[stepIndex]!, stepIndex, state: 'progressing', reason: 'step_back', why: `breach: ${why}`, author: 'rollout', evidence }, lease);
      return;
    }
    await r.move(snap, route, st, { percent: 0, stepIndex: -1, state: 'rolled_back', reason: 'rollback', why: `breach: ${why}`, author: 'rollout', evidence, breach: why }, lease);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    // A graceful stop hands over at once; a crash leaves the lease to expire.
    await this.lease.release().catch(() => undefined);
    this.metrics.rolloutLeader.set(0);
  }
}
