/**
 * The rules in Redis (docs/rules.md, "Storage in Redis"). All keys share the hash tag `{rules}`
 * so that the compare-and-set script works on Redis Cluster too:
 *
 *   PREFIX{rules}:version    the active version, an integer that only grows
 *   PREFIX{rules}:versions   hash: version → JSON {version, yaml, author, time, message}
 *   PREFIX{rules}:history    list of retained versions, newest first (bounded)
 *   PREFIX{rules}:changed    pub/sub channel; the message is the new version
 *   PREFIX{rules}:readers    hash: gateway id → when it last read the active version (ms, by
 *                            Redis's clock), so that a push can tell whether anyone reads PREFIX
 *
 * Every write is one Lua script: it checks the expected version, stores the new one, trims the
 * history and publishes the notice atomically, so two pushes expecting the same version cannot
 * both win.
 */
import { ERRORS } from '../errors.js';
import type { RedisClient } from './redis-client.js';

export interface RuleVersion {
  version: number;
  yaml: string;
  author: string;
  time: string;
  message: string;
}

export class VersionConflictError extends Error {
  readonly code = ERRORS.RULES_VERSION_CONFLICT.code;
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`version conflict: expected version ${expected}, but the active version is ${actual}; re-read the rules and push again`);
  }
}

/** Thrown by a guarded push when a guard (a lease, a record's revision) no longer holds. */
export class GuardFailedError extends Error {
  constructor(readonly guard: 'lease' | 'record') {
    super(guard === 'lease' ? 'the lease is no longer held' : 'the record changed since it was read');
  }
}

/**
 * Conditions checked and a record written in the same script as the push, so a rollout move is
 * one atomic step: KEYS[4] must hold ARGV[8] (a lease with its fencing token; '' = unchecked),
 * and the JSON record at KEYS[5] field ARGV[9] must have `rev` ARGV[10]; then ARGV[11] replaces it.
 * Every key shares the `{rules}` hash tag (Redis Cluster).
 */
export interface PushGuard {
  lease?: { key: string; value: string };
  record: { key: string; field: string; rev: number; value: string };
}

const GUARD = `
if KEYS[4] and ARGV[8] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[8] then return {-1, 0} end
if KEYS[5] then
  local old = redis.call('HGET', KEYS[5], ARGV[9])
  local rev = 0
  if old then rev = tonumber(cjson.decode(old).rev) or 0 end
  if rev ~= tonumber(ARGV[10]) then return {-2, rev} end
end
`;

const PUSH_BODY = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= cur then return {0, cur} end
local v = cur + 1
local entry = cjson.encode({version = v, yaml = ARGV[2], author = ARGV[3], time = ARGV[4], message = ARGV[5]})
redis.call('HSET', KEYS[2], tostring(v), entry)
redis.call('SET', KEYS[1], v)
redis.call('LPUSH', KEYS[3], v)
local limit = tonumber(ARGV[6])
local dropped = redis.call('LRANGE', KEYS[3], limit, -1)
for _, old in ipairs(dropped) do redis.call('HDEL', KEYS[2], old) end
redis.call('LTRIM', KEYS[3], 0, limit - 1)
redis.call('PUBLISH', ARGV[7], v)
if KEYS[5] then redis.call('HSET', KEYS[5], ARGV[9], ARGV[11]) end
return {1, v}
`;

// One body for both: a guarded push is the plain compare-and-set push with checks in front.
const PUSH = PUSH_BODY;
const PUSH_GUARDED = GUARD + PUSH_BODY;

const ACTIVE = `
local v = redis.call('GET', KEYS[1])
if not v then return {0, false} end
return {tonumber(v), redis.call('HGET', KEYS[2], v)}
`;

// TIME, not the caller's clock: the gateways and the CLI compare against one clock.
const MARK_READ = `
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], ARGV[1], t[1] * 1000 + math.floor(t[2] / 1000))
return 1
`;

// Returns Redis's time and the readers seen since ARGV[1] ms ago; forgets those not seen for
// ARGV[2] ms (gateway ids change with every restart, so the hash would otherwise only grow).
const READERS = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local all = redis.call('HGETALL', KEYS[1])
local recent = {}
for i = 1, #all, 2 do
  local at = tonumber(all[i + 1]) or 0
  if now - at > tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], all[i])
  elseif now - at <= tonumber(ARGV[1]) then table.insert(recent, all[i]) end
end
return recent
`;

/** Readers not seen for a day are removed from the readers hash. */
const FORGET_READERS_MS = 24 * 3600 * 1000;

export class RuleStore {
  readonly keys: { version: string; versions: string; history: string; channel: string; readers: string };

  constructor(
    readonly redis: RedisClient,
    readonly prefix = 'switchyard:',
    private readonly historyLimit = 50,
  ) {
    const base = `${prefix}{rules}`;
    this.keys = { version: `${base}:version`, versions: `${base}:versions`, history: `${base}:history`, channel: `${base}:changed`, readers: `${base}:readers` };
  }

  /** Records that the reader `id` (a gateway) has just read this prefix. */
  async markRead(id: string): Promise<void> {
    await this.redis.eval(MARK_READ, 1, this.keys.readers, id);
  }

  /** Ids of the readers that read this prefix within the last `withinMs`. */
  async recentReaders(withinMs: number): Promise<string[]> {
    return (await this.redis.eval(READERS, 1, this.keys.readers, String(withinMs), String(FORGET_READERS_MS))) as string[];
  }

  /** Writes a new version; with `expectVersion`, only if the active version is still that one. */
  async push(yaml: string, meta: { author: string; message: string; expectVersion?: number }, guard?: PushGuard): Promise<number> {
    const k = this.keys;
    const keys = guard ? [k.version, k.versions, k.history, guard.lease?.key ?? `${k.version}:unused`, guard.record.key] : [k.version, k.versions, k.history];
    const [ok, v] = (await this.redis.eval(
      guard ? PUSH_GUARDED : PUSH,
      keys.length,
      ...keys,
      meta.expectVersion === undefined ? '' : String(meta.expectVersion),
      yaml,
      meta.author,
      new Date().toISOString(),
      meta.message,
      String(this.historyLimit),
      k.channel,
      ...(guard ? [guard.lease?.value ?? '', guard.record.field, String(guard.record.rev), guard.record.value] : []),
    )) as [number, number];
    if (ok === -1) throw new GuardFailedError('lease');
    if (ok === -2) throw new GuardFailedError('record');
    if (ok !== 1) throw new VersionConflictError(meta.expectVersion!, v);
    return v;
  }

  /** The active version, or undefined when nothing was ever pushed. */
  async active(): Promise<RuleVersion | undefined> {
    const [v, raw] = (await this.redis.eval(ACTIVE, 2, this.keys.version, this.keys.versions)) as [number, string | null];
    if (!v) return undefined;
    if (!raw) return { version: v, yaml: '', author: '', time: '', message: '(version body missing)' };
    return JSON.parse(raw) as RuleVersion;
  }

  async activeVersion(): Promise<number> {
    return Number((await this.redis.get(this.keys.version)) ?? 0);
  }

  async get(version: number): Promise<RuleVersion | undefined> {
    const raw = await this.redis.hget(this.keys.versions, String(version));
    return raw ? (JSON.parse(raw) as RuleVersion) : undefined;
  }

  /** Retained versions, newest first. */
  async history(): Promise<RuleVersion[]> {
    const versions = await this.redis.lrange(this.keys.history, 0, -1);
    if (versions.length === 0) return [];
    const raws = await this.redis.hmget(this.keys.versions, ...versions);
    return raws.filter((r): r is string => !!r).map((r) => JSON.parse(r) as RuleVersion);
  }
}
