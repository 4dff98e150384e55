/**
 * Gateway side of the Redis rules store. Loads the active version at start, applies a new one
 * when the change notice arrives, and also re-reads on every (re)connect and on a periodic poll,
 * because pub/sub drops messages while a client is disconnected.
 *
 * Redis is never in the request path: while it is down the gateway serves the rules it has.
 * Unreachable at start → the last-known-good snapshot on disk, else `rules.file` (a snapshot that
 * is corrupt or invalid is logged, counted and said in the /readyz note, not taken for none). A
 * version that fails validation (written behind the CLI's back) is counted and logged, never
 * applied.
 *
 * Each read is also recorded in `PREFIX{rules}:readers` (at most every READ_MARK_MS, never
 * awaited by anything), so that `switchyard rules push` can warn when no gateway reads the
 * prefix it pushed to.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { GatewayConfig, RedisConfig } from '../config/gateway-config.js';
import { ConfigError, formatIssue } from '../config/yaml-source.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { parseRuleSet, type RuleContext, type RuleSet } from '../rules/rule-set.js';
import type { ActiveRules } from './active-rules.js';
import { connectWithin, createRedisClient, createSubscriber, type RedisClient } from './redis-client.js';
import { readRuleFile } from './rule-file.js';
import { RuleStore } from './rule-store.js';

const START_TIMEOUT_MS = 2000;
/** How often a gateway records that it read the prefix; well under the CLI's one-minute window. */
const READ_MARK_MS = 10_000;

interface Snapshot {
  version: number;
  yaml: string;
  savedAt: string;
}

export class RedisRuleSource {
  readonly kind = 'redis' as const;
  private readonly store: RuleStore;
  private readonly subscriber: RedisClient;
  private poll: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private lastInvalid = 0;
  private stopped = false;
  private lastMark = 0;
  private readonly readerId = `${hostname()}:${process.pid}`;

  private constructor(
    private readonly cfg: RedisConfig,
    private readonly rc: RuleContext,
    private readonly active: ActiveRules,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    readonly client: RedisClient,
  ) {
    this.store = new RuleStore(client, cfg.prefix, cfg.historyLimit);
    this.subscriber = createSubscriber(cfg, { failFast: true });
  }

  get ruleStore(): RuleStore {
    return this.store;
  }

  static async start(
    config: GatewayConfig,
    cfg: RedisConfig,
    rc: RuleContext,
    active: ActiveRules,
    metrics: Metrics,
    logger: Logger,
  ): Promise<RedisRuleSource> {
    const client = createRedisClient(cfg, { failFast: true });
    const src = new RedisRuleSource(cfg, rc, active, metrics, logger, client);
    src.wire();
    const connected = await connectWithin(client, START_TIMEOUT_MS);
    if (connected) await src.refresh();
    if (!active.rules) src.fallBack(config, connected ? 'Redis holds no valid rules yet' : 'Redis was unreachable at start');
    src.poll = setInterval(() => void src.refresh(), cfg.pollMs);
    src.poll.unref();
    return src;
  }

  private wire(): void {
    this.metrics.redisUp.set(0);
    // Errors are reported through status changes; without a listener ioredis would log each one.
    this.client.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    this.client.on('ready', () => {
      this.metrics.redisUp.set(1);
      this.logger.info('rules redis connected');
      void this.refresh();
    });
    this.client.on('close', () => {
      if (this.metrics) this.metrics.redisUp.set(0);
    });
    this.subscriber.on('ready', () => void this.subscriber.subscribe(this.store.keys.channel).catch(() => undefined));
    this.subscriber.on('message', () => void this.refresh());
    void this.subscriber.connect().catch(() => undefined);
  }

  private fallBack(config: GatewayConfig, why: string): void {
    const snapshot = this.cfg.snapshot;
    const read = readSnapshot(snapshot);
    let instead = 'no snapshot';
    if (read.kind === 'found') {
      const snap = read.snapshot;
      try {
        const rules = parseRuleSet(snap.yaml, snapshot, this.rc);
        this.active.apply(rules, { version: snap.version, source: 'snapshot', note: `${why}; serving the snapshot of version ${snap.version}` });
        this.logger.warn({ snapshot, version: snap.version }, `${why}; serving the last-known-good snapshot`);
        return;
      } catch (err) {
        // Valid when it was written: the gateway config changed since (a backend renamed), or it was edited.
        const errors = err instanceof ConfigError ? err.issues.map(formatIssue) : [(err as Error).message];
        this.metrics.rulesReloads.inc({ result: 'invalid' });
        this.logger.error({ snapshot, version: snap.version, errors }, 'rules snapshot holds invalid rules; falling back to rules.file');
        instead = `the snapshot ${snapshot} holds invalid rules (version ${snap.version})`;
      }
    } else if (read.kind === 'corrupt') {
      // Not the same as no snapshot: the last-known-good rules were lost (a full disk, a bad
      // copy, an edit), and the operator should know before the next Redis outage.
      this.metrics.rulesReloads.inc({ result: 'error' });
      this.logger.error({ snapshot, err: read.why }, 'rules snapshot is corrupt; falling back to rules.file');
      instead = `the snapshot ${snapshot} is corrupt (${read.why})`;
    }
    const rules = readRuleFile(config.rules.file, this.rc);
    this.active.apply(rules, { version: 0, source: 'file', note: `${why}; ${instead}, serving ${config.rules.file}` });
    this.logger.warn({ file: config.rules.file }, `${why}; ${instead}, serving rules.file`);
  }

  /** Reads the active version and applies it if it differs from ours. Calls coalesce. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = this.doRefresh().finally(() => {
      this.refreshing = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    if ((this.client as { status?: string }).status !== 'ready') return;
    let entry: Awaited<ReturnType<typeof this.store.active>>;
    try {
      entry = await this.store.active();
    } catch (err) {
      this.metrics.rulesReloads.inc({ result: 'error' });
      this.logger.warn({ err: (err as Error).message }, 'reading rules from redis failed; keeping the active rules');
      return;
    }
    this.markRead();
    const meta = this.active.meta;
    if (!entry || (meta?.source === 'redis' && meta.version === entry.version) || entry.version === this.lastInvalid) return;
    let rules: RuleSet;
    try {
      rules = parseRuleSet(entry.yaml, `redis:${this.store.keys.versions}#${entry.version}`, this.rc);
    } catch (err) {
      this.lastInvalid = entry.version;
      this.metrics.rulesReloads.inc({ result: 'invalid' });
      const errors = err instanceof ConfigError ? err.issues.map(formatIssue) : [(err as Error).message];
      this.logger.error({ version: entry.version, errors }, 'rules in redis are invalid; keeping the active rules');
      return;
    }
    this.active.apply(rules, { version: entry.version, source: 'redis' });
    this.metrics.rulesReloads.inc({ result: 'applied' });
    this.logger.info({ version: entry.version, author: entry.author, message: entry.message }, 'rules applied from redis');
    try {
      writeSnapshot(this.cfg.snapshot, { version: entry.version, yaml: entry.yaml, savedAt: new Date().toISOString() });
    } catch (err) {
      this.logger.warn({ snapshot: this.cfg.snapshot, err: (err as Error).message }, 'could not write the rules snapshot');
    }
  }

  private markRead(): void {
    const now = Date.now();
    if (now - this.lastMark < READ_MARK_MS) return;
    this.lastMark = now;
    this.store.markRead(this.readerId).catch((err: Error) => {
      this.lastMark = 0;
      this.logger.debug({ err: err.message }, 'could not record the read in redis');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    await this.refreshing?.catch(() => undefined);
    this.subscriber.disconnect();
    this.client.disconnect();
  }
}

type SnapshotRead = { kind: 'found'; snapshot: Snapshot } | { kind: 'missing' } | { kind: 'corrupt'; why: string };

/** The snapshot file: found, missing (never written), or corrupt (unreadable, not JSON, not a snapshot). */
function readSnapshot(file: string): SnapshotRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ENOENT' ? { kind: 'missing' } : { kind: 'corrupt', why: `cannot read it: ${e.code ?? e.message}` };
  }
  let s: Partial<Snapshot>;
  try {
    s = JSON.parse(text) as Partial<Snapshot>;
  } catch (err) {
    return { kind: 'corrupt', why: `not JSON: ${(err as Error).message}` };
  }
  if (typeof s !== 'object' || s === null || typeof s.yaml !== 'string' || typeof s.version !== 'number') {
    return { kind: 'corrupt', why: 'not a rules snapshot: "version" (a number) and "yaml" (a string) are required' };
  }
  return { kind: 'found', snapshot: s as Snapshot };
}

/** Written to a temporary file and renamed, so a crash never leaves half a snapshot. */
function writeSnapshot(file: string, snap: Snapshot): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snap));
  renameSync(tmp, file);
}
