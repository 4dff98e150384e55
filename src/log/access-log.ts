/**
 * The access line: one JSON object per exchange, the same shape wherever it is written (the
 * gateway's log step, the pipeline service's log step). docs/lifecycle.md lists its fields.
 */
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

export class AccessLog {
  private constructor(
    private readonly logger: Logger,
    private readonly sample: number,
  ) {}

  /** The access log of a logger, or undefined when `log.access` is off. */
  static of(logger: Logger, cfg: AccessLogConfig): AccessLog | undefined {
    return cfg.access ? new AccessLog(logger.child({ kind: 'access' }), cfg.accessSample) : undefined;
  }

  /** Whether this exchange gets a line; asked before the line is built, so that an unsampled exchange allocates nothing. */
  sampled(): boolean {
    return this.sample >= 1 || Math.random() < this.sample;
  }

  write(line: AccessLine): void {
    this.logger.info(line);
  }
}

/** Seconds to the `duration_ms` of an access line (microsecond precision). */
export function durationMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}
