/**
 * The access line: one JSON object per exchange, the same shape wherever it is written (the
 * gateway's log step, the pipeline service's log step). docs/lifecycle.md lists its fields.
 */
import { pino } from 'pino';
import { type AccessLine, accessFieldsJson, IsoTimeCache } from './access-line-json.js';
import type { Logger } from './logger.js';

export type { AccessLine };

/** `log.access` and `log.access_sample`, the same keys in the gateway's and the pipeline's config. */
export interface AccessLogConfig {
  access: boolean;
  /** Fraction of exchanges that get a line, 0–1. */
  accessSample: number;
}

/** Characters buffered before a write: nginx's `access_log … buffer=32k`. */
const BUFFER_CHARS = 32 * 1024;
/** Lines kept before they are serialized together (see AccessLog). */
const BATCH = 64;
/**
 * At most this long between a line and its write (nginx's `flush=`). Short enough that `tail -f`
 * and a test polling the log see a line within a fraction of a second; a write per 100 ms costs
 * nothing next to a write per request.
 */
const FLUSH_MS = 100;

/** The access logs with lines not yet written, flushed at process exit (a stop path that forgot one, an exit()). */
const open = new Set<AccessLog>();
let exitHooked = false;

function flushAllAtExit(): void {
  for (const a of open) a.flush(true);
}

/**
 * Writes access lines through the logger's own destination, with the logger's level, time and
 * bindings, but serialized by hand (access-line-json.ts) and buffered: a write per 32 KiB or per
 * 100 ms instead of a write per request. `close()` (the gateway's and the pipeline's stop path)
 * and process exit write what is buffered; nothing is lost on SIGTERM.
 *
 * Lines are kept as they come (the object and its time) and serialized `BATCH` at a time, so
 * that the serializer and the string code it calls run warm, in a row, instead of between two
 * requests' proxy code. With the field cache of access-line-json.ts, `npm run bench:access-log`
 * measured about a sixth less CPU per line than serializing each line in write() (issue 14's
 * closing note). Encoding each line into a Buffer for a byte destination was tried and cost
 * more: a call into C++ per line that measures and encodes it.
 */
export class AccessLog {
  private readonly lines: AccessLine[] = [];
  /** The time (ms since the epoch) of each line in `lines`. */
  private readonly times: number[] = [];
  /** Serialized lines not yet handed to the destination. */
  private buf = '';
  private timer: NodeJS.Timeout | undefined;
  /** A line's start: `{"level":30,"time":"…"` and the logger's bindings. */
  private readonly start: IsoTimeCache;
  private readonly enabled: boolean;
  private readonly stream: pino.DestinationStream & { flushSync?: () => void };
  private readonly flushSoon = () => {
    this.timer = undefined;
    this.flush();
  };

  private constructor(
    logger: Logger,
    private readonly sample: number,
    private readonly clock: () => number,
  ) {
    // pino's own prefix for this child: `{"level":30` then, after the time, its bindings
    // (`,"pid":…,"kind":"access"`, and `"worker":N` in a cluster worker).
    const lsCache = (logger as unknown as Record<symbol, Record<number, string>>)[pino.symbols.lsCacheSym]!;
    this.start = new IsoTimeCache(lsCache[logger.levels.values.info!]!, (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '');
    this.stream = (logger as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym]!;
    this.enabled = logger.isLevelEnabled('info');
  }

  /** The access log of a logger, or undefined when `log.access` is off. `clock` (tests) gives each line its time. */
  static of(logger: Logger, cfg: AccessLogConfig, clock: () => number = Date.now): AccessLog | undefined {
    return cfg.access ? new AccessLog(logger.child({ kind: 'access' }), cfg.accessSample, clock) : undefined;
  }

  /** Whether this exchange gets a line; asked before the line is built, so that an unsampled exchange allocates nothing. */
  sampled(): boolean {
    return this.sample >= 1 || Math.random() < this.sample;
  }

  /** Takes the line (not copied: the caller builds a new object per line) with the time now. */
  write(line: AccessLine): void {
    if (!this.enabled) return;
    if (this.lines.length === 0 && this.buf.length === 0) {
      open.add(this);
      if (!exitHooked) {
        exitHooked = true;
        process.once('exit', flushAllAtExit);
      }
      this.timer = setTimeout(this.flushSoon, FLUSH_MS).unref();
    }
    this.lines.push(line);
    this.times.push(this.clock());
    if (this.lines.length >= BATCH) this.serialize();
  }

  /** The kept lines, serialized into the buffer; a full buffer is handed to the destination. */
  private serialize(): void {
    const { lines, times } = this;
    try {
      for (let i = 0; i < lines.length; i++) {
        this.buf += this.start.at(times[i]!) + accessFieldsJson(lines[i]!) + '}\n';
        if (this.buf.length >= BUFFER_CHARS) this.writeBuffered();
      }
    } finally {
      // Whatever happened (a destination that threw), no line is serialized twice.
      lines.length = 0;
      times.length = 0;
    }
  }

  private writeBuffered(): void {
    if (this.buf.length === 0) return;
    const chunk = this.buf;
    this.buf = '';
    this.stream.write(chunk);
  }

  /**
   * Hands the kept lines to the destination in one write. `sync` (at process exit, where no
   * asynchronous write completes) also makes the destination write them now.
   */
  flush(sync = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    open.delete(this);
    this.serialize();
    this.writeBuffered();
    if (sync) {
      try {
        this.stream.flushSync?.();
      } catch {
        // A destination not ready or already closed: nothing more can be written at exit.
      }
    }
  }

  /** The stop path: writes what is buffered. Lines written after it are still written (at the next flush). */
  close(): void {
    this.flush();
  }
}

/** Seconds to the `duration_ms` of an access line (microsecond precision). */
export function durationMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}
