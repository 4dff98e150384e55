/**
 * Rollouts over the rules store: status, the moves (each a rule push through RuleStore.push, the
 * compare-and-set path of `switchyard rules push`, with the state written in the same script),
 * and the manual actions of `switchyard rollout` and `POST /rollouts/ROUTE/ACTION`. The
 * controller (controller.ts) drives the same moves from the judgement.
 */
import type { Metrics } from '../metrics/catalogue.js';
import { parseRuleSet, type Route, type RuleContext, type RuleSet } from '../rules/rule-set.js';
import type { RolloutPolicy } from '../rules/rollout-policy.js';
import type { RedisClient } from '../store/redis-client.js';
import { GuardFailedError, VersionConflictError, type RuleStore, type RuleVersion } from '../store/rule-store.js';
import { readEvidence, type EvidenceOptions } from './evidence.js';
import { formatDuration, judge, type GateReading, type Verdict } from './judge.js';
import { readStates, rolloutKeys, stepIndexOf, writeState, ROLLOUT_STATES, type RolloutState, type RolloutStateName, type TransitionReason } from './rollout-state.js';
import { formatPercent, setShare } from './split-edit.js';

export interface Snapshot {
  active: RuleVersion;
  rules: RuleSet;
  states: Map<string, RolloutState>;
}

export interface RolloutStatus {
  route: string;
  to: string;
  from: string;
  state: RolloutStateName | 'pending';
  step: number;
  steps: readonly number[];
  percent: number;
  next_percent: number | null;
  step_started_at: string | null;
  time_at_step: string;
  time_at_step_ms: number;
  reason: string;
  breach?: string;
  gates: GateReading[];
  missing: string[];
  counts: Verdict['counts'] | null;
}

export type Action = 'pause' | 'resume' | 'promote' | 'abort';
export const ACTIONS: readonly Action[] = ['pause', 'resume', 'promote', 'abort'];

export class RolloutError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function shareOf(route: Route, backend: string): number {
  return route.split.percent[backend] ?? 0;
}

export class Rollouts {
  constructor(
    readonly redis: RedisClient,
    readonly store: RuleStore,
    readonly prefix: string,
    private readonly rc: RuleContext,
    readonly evidence: Pick<EvidenceOptions, 'prefix' | 'bucketMs' | 'retainMs'>,
    private readonly metrics?: Metrics,
  ) {}

  /** The active rules (parsed) and every rollout state; undefined when nothing was pushed. */
  async snapshot(): Promise<Snapshot | undefined> {
    const [active, states] = await Promise.all([this.store.active(), readStates(this.redis, this.prefix)]);
    if (!active) return undefined;
    const rules = parseRuleSet(active.yaml, `redis:version ${active.version}`, this.rc);
    return { active, rules, states };
  }

  /** A fresh state for a rollout that has none (or whose definition changed). */
  initial(route: Route, policy: RolloutPolicy, rev: number, now: number): RolloutState {
    const percent = shareOf(route, policy.to);
    const stepIndex = stepIndexOf(policy.steps, percent);
    const done = stepIndex === policy.steps.length - 1 && percent === policy.steps[stepIndex];
    return {
      route: route.name,
      rev: rev + 1,
      to: policy.to,
      steps: [...policy.steps],
      state: done ? 'complete' : 'progressing',
      stepIndex,
      percent,
      stepStartedAt: now,
      reason: `started at ${formatPercent(percent)}%`,
      updatedAt: now,
      by: 'rollout',
    };
  }

  async verdict(policy: RolloutPolicy, st: RolloutState, now = Date.now()): Promise<Verdict> {
    const ev = await readEvidence(this.redis, this.evidence, st.route, st.stepStartedAt, now);
    return judge({ policy, timeAtStepMs: now - st.stepStartedAt, evidence: ev });
  }

  /**
   * Pushes the route's split at `percent` with the new state, in one script: fails (returns
   * false) when the rules or the state changed since `snap` was read, or the lease was lost.
   */
  async move(
    snap: Snapshot,
    route: Route,
    st: RolloutState,
    change: { percent: number; stepIndex: number; state: RolloutStateName; reason: TransitionReason; why: string; author: string; evidence?: string; breach?: string },
    lease?: string,
  ): Promise<boolean> {
    const policy = route.rollout!;
    const yaml = setShare(snap.active.yaml, route.name, policy.to, policy.from, change.percent);
    parseRuleSet(yaml, `rollout ${route.name}`, this.rc); // never push what the gateways would refuse
    const now = Date.now();
    const next: RolloutState = {
      ...st,
      rev: st.rev + 1,
      state: change.state,
      stepIndex: change.stepIndex,
      percent: change.percent,
      stepStartedAt: now,
      reason: change.why,
      breach: change.breach,
      updatedAt: now,
      by: change.author,
    };
    const detail = [change.why, change.evidence].filter(Boolean).join('; ');
    const message = `rollout ${route.name}: ${formatPercent(st.percent)}% -> ${formatPercent(change.percent)}% (${detail})`;
    try {
      await this.store.push(
        yaml,
        { author: change.author, message, expectVersion: snap.active.version },
        { lease: lease ? { key: rolloutKeys(this.prefix).lease, value: lease } : undefined, record: { key: rolloutKeys(this.prefix).state, field: route.name, rev: st.rev, value: JSON.stringify(next) } },
      );
    } catch (err) {
      if (err instanceof VersionConflictError || err instanceof GuardFailedError) return false;
      throw err;
    }
    this.count(route.name, change.reason);
    return true;
  }

  /** Writes a state change that moves no traffic. */
  async setState(st: RolloutState, patch: Partial<RolloutState>, reason: TransitionReason | undefined, lease?: string): Promise<boolean> {
    const now = Date.now();
    const next = { ...st, ...patch, rev: st.rev + 1, updatedAt: now };
    const ok = await writeState(this.redis, this.prefix, next, lease);
    if (ok && reason) this.count(st.route, reason);
    return ok;
  }

  private count(route: string, reason: TransitionReason): void {
    this.metrics?.rolloutTransitions.inc({ route, reason });
  }

  /** Sets the state gauges from a snapshot (every gateway does, leader or not). */
  export(snap: Snapshot): void {
    const m = this.metrics;
    if (!m) return;
    for (const route of snap.rules.routes) {
      const st = snap.states.get(route.name);
      if (!route.rollout || !st) continue;
      m.rolloutStepPercent.set({ route: route.name }, st.percent);
      // Born at 0, so that increase() sees the first rollback (SwitchyardRolloutRolledBack).
      for (const reason of ['rollback', 'step_back']) m.rolloutTransitions.inc({ route: route.name, reason }, 0);
      for (const s of ROLLOUT_STATES) m.rolloutState.set({ route: route.name, state: s }, s === st.state ? 1 : 0);
    }
  }

  async status(routeName?: string): Promise<RolloutStatus[]> {
    const snap = await this.snapshot();
    if (!snap) return [];
    const now = Date.now();
    const out: RolloutStatus[] = [];
    for (const route of snap.rules.routes) {
      const policy = route.rollout;
      if (!policy || (routeName && route.name !== routeName)) continue;
      const st = snap.states.get(route.name);
      const v = st ? await this.verdict(policy, st, now) : undefined;
      const step = st?.stepIndex ?? stepIndexOf(policy.steps, shareOf(route, policy.to));
      const live = st && (st.state === 'progressing' || st.state === 'holding');
      out.push({
        route: route.name,
        to: policy.to,
        from: policy.from,
        state: st?.state ?? 'pending',
        step: step + 1,
        steps: policy.steps,
        percent: shareOf(route, policy.to),
        next_percent: step + 1 < policy.steps.length ? policy.steps[step + 1]! : null,
        step_started_at: st ? new Date(st.stepStartedAt).toISOString() : null,
        time_at_step: st ? formatDuration(now - st.stepStartedAt) : '-',
        time_at_step_ms: st ? now - st.stepStartedAt : 0,
        reason: st?.reason ?? 'waiting for the controller',
        breach: st?.breach,
        gates: v?.gates ?? [],
        missing: !st ? ['the controller has not seen this rollout yet'] : live ? (st.breach ? [`held after a breach: ${st.breach}; resume to continue`] : v!.missing) : [`${st.state}: no automatic moves`],
        counts: v?.counts ?? null,
      });
    }
    if (routeName && out.length === 0) throw new RolloutError(`no rollout for route ${JSON.stringify(routeName)} in the active rules`, 404);
    return out;
  }

  /** pause, resume, promote (one step now, recorded as manual) or abort, by a person. */
  async act(routeName: string, action: Action, author: string): Promise<RolloutState> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const snap = await this.snapshot();
      const route = snap?.rules.routes.find((r) => r.name === routeName && r.rollout);
      if (!snap || !route) throw new RolloutError(`no rollout for route ${JSON.stringify(routeName)} in the active rules`, 404);
      const policy = route.rollout!;
      const now = Date.now();
      let st = snap.states.get(routeName);
      if (!st || st.to !== policy.to || st.steps.join() !== policy.steps.join()) {
        st = this.initial(route, policy, st?.rev ?? 0, now);
        if (!(await writeState(this.redis, this.prefix, st))) continue;
      }
      const ok = await this.apply(snap, route, st, action, author, now);
      if (ok) return (await readStates(this.redis, this.prefix)).get(routeName)!;
    }
    throw new RolloutError('the rollout kept changing underneath; try again', 409);
  }

  private async apply(snap: Snapshot, route: Route, st: RolloutState, action: Action, author: string, now: number): Promise<boolean> {
    const policy = route.rollout!;
    const share = shareOf(route, policy.to);
    switch (action) {
      case 'pause':
        if (st.state !== 'progressing' && st.state !== 'holding') throw new RolloutError(`cannot pause: the rollout is ${st.state}`, 409);
        return this.setState(st, { state: 'paused', reason: `paused by ${author}`, by: author }, 'pause');
      case 'resume': {
        if (st.state === 'progressing' || st.state === 'complete') throw new RolloutError(`cannot resume: the rollout is ${st.state}`, 409);
        // Resume from the split as it is now (a person may have changed it), in a fresh window.
        const stepIndex = stepIndexOf(policy.steps, share);
        return this.setState(st, { state: 'progressing', stepIndex, percent: share, stepStartedAt: now, breach: undefined, reason: `resumed by ${author}`, by: author }, 'resume');
      }
      case 'promote': {
        if (st.state === 'complete' || st.stepIndex >= policy.steps.length - 1) throw new RolloutError('cannot promote: already at the last step', 409);
        const stepIndex = st.stepIndex + 1;
        const v = await this.verdict(policy, st, now);
        const last = stepIndex === policy.steps.length - 1;
        const state = last ? 'complete' : st.state === 'paused' ? 'paused' : 'progressing';
        return this.move(snap, route, { ...st, percent: share }, { percent: policy.steps[stepIndex]!, stepIndex, state, reason: 'manual_promote', why: `manual promote by ${author}`, author, evidence: v.summary });
      }
      case 'abort':
        if (st.state === 'aborted') throw new RolloutError('the rollout is already aborted', 409);
        return this.move(snap, route, { ...st, percent: share }, { percent: 0, stepIndex: -1, state: 'aborted', reason: 'abort', why: `aborted by ${author}`, author });
    }
  }
}
