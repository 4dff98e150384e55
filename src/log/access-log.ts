/**
 * The access line: one JSON object per exchange, the same shape wherever it is written (the
 * gateway's log step, the pipeline service's log step). docs/lifecycle.md lists its fields.
 */
import { pino } from 'pino';
import { accessFieldsJson, IsoTimeCache } from './access-line-json.js';
import type { Logger } from './logger.js';

/** `log.access` and `log.access_sample`, the same keys in the gateway's and the pipeline's config. */
export interface AccessLogConfig {
  access: boolean;
  /** Fraction of exchanges that get a line, 0–1. */
  accessSample: number;
}

/** The fields of one access line; what does not apply to an exchange is left out. */
export interface AccessLine {
  request_id?: string;
  /** The W3C trace id the backends saw (docs/lifecycle.md, "Trace context"). */
  trace_id?: string;
  method?: string;
  /** "HTTP/1.1", "HTTP/1.0" or "HTTP/2.0": what the client spoke (the gateway only). */
  protocol?: string;
  path?: string;
  /** The gateway only: the matched route and the backend that served ("-" when refused before deciding). */
  route?: string;
  backend?: string;
  placement?: string;
  /** The gateway only: the copy's target, "dropped", "skipped:REASON" or "none". */
  shadow?: string;
  status: number;
  /** Absent when the start of the exchange is unknown (a request Node's parser refused). */
  duration_ms?: number;
  bytes_in: number;
  bytes_out: number;
  /** Why the answer was made locally instead of by the origin (`waf:1001`, `redirect:old-docs`, …). */
  reply?: string;
  /** The catalogue reason of a failed exchange (docs/errors.md). */
  error?: string;
  cause?: string;
}

/** Bytes buffered before a write: nginx's `access_log … buffer=32k`. */
const BUFFER_CHARS = 32 * 1024;
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
 */
export class AccessLog {
  private buf = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly time = new IsoTimeCache();
  private readonly head: string;
  private readonly chindings: string;
  private readonly enabled: boolean;
  private readonly stream: pino.DestinationStream & { flushSync?: () => void };
  private readonly flushSoon = () => {
    this.timer = undefined;
    this.flush();
  };

  private constructor(
    logger: Logger,
    private readonly sample: number,
  ) {
    // pino's own prefix for this child: `{"level":30` then, after the time, its bindings
    // (`,"pid":…,"kind":"access"`, and `"worker":N` in a cluster worker).
    const lsCache = (logger as unknown as Record<symbol, Record<number, string>>)[pino.symbols.lsCacheSym]!;
    this.head = lsCache[logger.levels.values.info!]!;
    this.chindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
    this.stream = (logger as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym]!;
    this.enabled = logger.isLevelEnabled('info');
  }

  /** The access log of a logger, or undefined when `log.access` is off. */
  static of(logger: Logger, cfg: AccessLogConfig): AccessLog | undefined {
    return cfg.access ? new AccessLog(logger.child({ kind: 'access' }), cfg.accessSample) : undefined;
  }

  /** Whether this exchange gets a line; asked before the line is built, so that an unsampled exchange allocates nothing. */
  sampled(): boolean {
    return this.sample >= 1 || Math.random() < this.sample;
  }

  write(line: AccessLine): void {
    if (!this.enabled) return;
    if (this.buf.length === 0) {
      open.add(this);
      if (!exitHooked) {
        exitHooked = true;
        process.once('exit', flushAllAtExit);
      }
      this.timer = setTimeout(this.flushSoon, FLUSH_MS).unref();
    }
    this.buf += this.head + this.time.now() + this.chindings + accessFieldsJson(line) + '}\n';
    if (this.buf.length >= BUFFER_CHARS) this.flush();
  }

  /**
   * Hands the buffered lines to the destination in one write. `sync` (at process exit, where no
   * asynchronous write completes) also makes the destination write them now.
   */
  flush(sync = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    open.delete(this);
    if (this.buf.length > 0) {
      const chunk = this.buf;
      this.buf = '';
      this.stream.write(chunk);
    }
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
