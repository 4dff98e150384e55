/**
 * The state of every rollout, in Redis beside the rules (docs/rollouts.md, "State"):
 *
 *   PREFIX{rules}:rollout:state   hash: route → JSON RolloutState
 *   PREFIX{rules}:rollout:lease   "ID:TOKEN" of the controller that leads, with a TTL
 *   PREFIX{rules}:rollout:fence   the fencing token, INCR on every acquisition
 *
 * The `{rules}` hash tag puts them in the slot of the rules, so that a move (rule push + state)
 * is one script, checked against the lease and the state's revision (RuleStore.push's guard).
 */
import type { RedisClient } from '../store/redis-client.js';

export type RolloutStateName = 'progressing' | 'holding' | 'paused' | 'complete' | 'rolled_back' | 'aborted';
export const ROLLOUT_STATES: readonly RolloutStateName[] = ['progressing', 'holding', 'paused', 'complete', 'rolled_back', 'aborted'];

/** Bounded words for switchyard_rollout_transitions_total{reason}. */
export type TransitionReason = 'start' | 'promote' | 'rollback' | 'step_back' | 'breach_hold' | 'manual_change' | 'pause' | 'resume' | 'manual_promote' | 'abort';

export interface RolloutState {
  route: string;
  /** Revision of this record; every write expects the one it read. */
  rev: number;
  /** The definition the state belongs to; a changed `to` or `steps` starts over. */
  to: string;
  steps: number[];
  state: RolloutStateName;
  /** Index into steps; -1 before the first step. */
  stepIndex: number;
  /** The share of `to` this state expects in the active rules. */
  percent: number;
  /** Epoch ms: evidence counts from here. */
  stepStartedAt: number;
  /** Why the last transition happened, in words. */
  reason: string;
  /** Set while held by a breach (on_breach: hold); only resume clears it. */
  breach?: string;
  updatedAt: number;
  by: string;
}

export function rolloutKeys(prefix: string) {
  const base = `${prefix}{rules}:rollout`;
  return { state: `${base}:state`, lease: `${base}:lease`, fence: `${base}:fence` };
}

export async function readStates(redis: RedisClient, prefix: string): Promise<Map<string, RolloutState>> {
  const raw = await redis.hgetall(rolloutKeys(prefix).state);
  const out = new Map<string, RolloutState>();
  for (const [route, json] of Object.entries(raw)) {
    try {
      out.set(route, JSON.parse(json) as RolloutState);
    } catch {
      // A record written by hand and unreadable: the controller starts that rollout over.
    }
  }
  return out;
}

const WRITE = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local old = redis.call('HGET', KEYS[2], ARGV[2])
local rev = 0
if old then rev = tonumber(cjson.decode(old).rev) or 0 end
if rev ~= tonumber(ARGV[3]) then return -2 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
return 1
`;

/**
 * Writes `next` if the stored record still has revision `next.rev - 1` (and, with `lease`, the
 * lease is still ours). Returns false when it lost: the caller re-reads.
 */
export async function writeState(redis: RedisClient, prefix: string, next: RolloutState, lease?: string): Promise<boolean> {
  const k = rolloutKeys(prefix);
  const r = (await redis.eval(WRITE, 2, k.lease, k.state, lease ?? '', next.route, String(next.rev - 1), JSON.stringify(next))) as number;
  return r === 1;
}

/** The highest step index whose share is at or under `percent`; -1 when below the first. */
export function stepIndexOf(steps: readonly number[], percent: number): number {
  let i = -1;
  while (i + 1 < steps.length && steps[i + 1]! <= percent + 1e-9) i++;
  return i;
}
