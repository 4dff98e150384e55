/**
 * One controller per prefix: a Redis lease (SET NX PX) renewed on every tick, whose value carries
 * a fencing token (INCR on each acquisition). Every write of the leader checks that the lease
 * still holds its value, so a leader that paused past its TTL cannot write after a successor.
 */
import type { RedisClient } from '../store/redis-client.js';
import { rolloutKeys } from './rollout-state.js';

const ACQUIRE = `
if redis.call('SET', KEYS[1], 'acquiring', 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[2])
  local value = ARGV[1] .. ':' .. token
  redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
  return value
end
return false
`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class Lease {
  private readonly keys: ReturnType<typeof rolloutKeys>;
  /** "ID:TOKEN" while held. */
  value: string | undefined;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly id: string,
    private readonly ttlMs: number,
  ) {
    this.keys = rolloutKeys(prefix);
  }

  /** Acquires the lease when free, renews it when ours; false when another holds it. Throws when Redis fails. */
  async hold(): Promise<boolean> {
    if (this.value) {
      const renewed = (await this.redis.eval(RENEW, 1, this.keys.lease, this.value, String(this.ttlMs))) as number;
      if (renewed === 1) return true;
      this.value = undefined;
    }
    const got = (await this.redis.eval(ACQUIRE, 2, this.keys.lease, this.keys.fence, this.id, String(this.ttlMs))) as string | null;
    this.value = got ?? undefined;
    return got !== null;
  }

  /** Forgets the lease without touching Redis (it expires by itself). */
  drop(): void {
    this.value = undefined;
  }

  async release(): Promise<void> {
    const v = this.value;
    this.value = undefined;
    if (v) await this.redis.eval(RELEASE, 1, this.keys.lease, v);
  }

  get token(): number | undefined {
    return this.value ? Number(this.value.slice(this.value.lastIndexOf(':') + 1)) : undefined;
  }
}
