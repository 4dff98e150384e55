/**
 * The pipeline engine: runs the configured modules through the phases, in one order
 * (docs/lifecycle.md, "The pipeline"):
 *
 *   admit → filter → request → upstream_request → origin → upstream_response → response → log
 *
 * Built once: each module's config (deep-frozen) and state, the module list, the origin pool,
 * metric objects. Per request: one Context object (which is also the RequestView and every
 * phase's context) and the list of modules whose filter matched. A module that does not concern
 * a request costs one filter call.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex, Readable } from 'node:stream';
import { NO_RETRIES } from '../config/backend-config.js';
import { DEFAULT_MAX_HEADER_COUNT } from '../config/gateway-config.js';
import { ERRORS, type ErrorDef, errorFields } from '../errors.js';
import type { ForwardOutcome, ResponseTap } from '../forward/backend.js';
import { HttpBackend } from '../forward/http-backend.js';
import { admit } from '../http/admission.js';
import { bytesInOf } from '../http/bytes-in.js';
import { clientAddress, compileTrustedProxies, type TrustedProxies } from '../http/client-address.js';
import type { RefusedRequest } from '../http/client-errors.js';
import { closeAfter } from '../http/closing-connection.js';
import { REQUEST_ID, withoutHopByHop } from '../http/headers.js';
import { type AccessLog, durationMs } from '../log/access-log.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import { EDGE_MAX_LINE_BYTES } from '../products/edge-limits.js';
import type { ProductsConfig } from '../products/products-config.js';
import { deepFreeze } from '../util/deep-freeze.js';
import { checkEdgeTarget, headerLines } from './edge-target.js';
import { HeaderMap, type ReadonlyHeaders } from './header-map.js';
import {
  type LogPhase,
  PHASES,
  type Phase,
  type PipelineModule,
  type RequestPhase,
  type RequestView,
  type Respond,
  type ResponsePhase,
  type UpstreamRequestPhase,
  type UpstreamResponsePhase,
  type Vars,
  type Verdict,
} from './module.js';
import { STANDARD_MODULES } from './modules/index.js';

interface Loaded {
  module: PipelineModule<unknown, unknown>;
  /** Frozen: built once from products.yaml. */
  config: unknown;
  /** What the module changes while requests run (createState), one per pipeline. */
  state: unknown;
  /** Where this module's timings start in the pipeline's table of metric labels: one per phase. */
  slot: number;
}

/** A phase handler of a module, called with the module as `this`. */
type Handler<T> = (this: PipelineModule<unknown, unknown>, ctx: Context, config: unknown, state: unknown) => T;

/** A phase's index in PHASES: a module's timing slot is its `slot` plus this. */
const PHASE_INDEX: Readonly<Record<Phase, number>> = Object.freeze(Object.fromEntries(PHASES.map((p, i) => [p, i])) as Record<Phase, number>);

/** The edge's limit on header fields (nginx has none; its 32 KiB of head bounds them). */
export const PIPELINE_MAX_HEADER_COUNT = DEFAULT_MAX_HEADER_COUNT;
/** The request line's limit bounds the target too (checkEdgeTarget counts the whole line). */
const ADMISSION = Object.freeze({ maxUrlBytes: EDGE_MAX_LINE_BYTES, maxHeaderCount: PIPELINE_MAX_HEADER_COUNT });

class Context implements RequestView, RequestPhase, UpstreamRequestPhase, UpstreamResponsePhase, ResponsePhase, LogPhase {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly remoteAddress: string;
  readonly vars: Vars = {};
  upstreamHeaders!: HeaderMap;
  responseHeaders!: HeaderMap;
  originHeaders: ReadonlyHeaders = EMPTY_HEADERS;
  status = 0;
  answeredBy: string | undefined;
  /**
   * Why admission refused the request on the pipeline service's own listener: a client error,
   * counted and logged as `error` as logRefused does the parser's (in the gateway, the gateway's
   * log step records the exchange).
   */
  refusal: ErrorDef | undefined;
  reason: string | undefined;
  error: Error | undefined;
  durationSeconds = 0;
  bytesOut = 0;
  readonly request: RequestView = this;
  /**
   * The handlers that ran, observed in the log step: pairs of a timing slot (the module's slot
   * plus the phase's index) and milliseconds. Flat, so that a request allocates no tuple per handler.
   */
  readonly timings: number[] = [];

  /** Kept for the byte count: the socket is detached once the response ends. */
  readonly socket: Duplex;
  /** Some header may have come on several lines (hasRepeatedLines), computed once. */
  readonly repeats: boolean;

  constructor(
    readonly req: IncomingMessage,
    trusted: TrustedProxies,
  ) {
    const url = req.url ?? '/';
    this.socket = req.socket;
    const q = url.indexOf('?');
    this.method = req.method ?? 'GET';
    this.path = q === -1 ? url : url.slice(0, q);
    this.query = q === -1 ? '' : url.slice(q + 1);
    this.repeats = hasRepeatedLines(req);
    // Line by line when the header came on several: nginx walks the lines, not their join.
    const xff = (this.repeats && sentLines(req, 'x-forwarded-for')) || req.headers['x-forwarded-for'];
    this.remoteAddress = clientAddress(req.socket.remoteAddress ?? '', xff, trusted);
  }

  header(name: string): string | undefined {
    const lines = this.repeats && UNJOINED.has(name) ? sentLines(this.req, name) : undefined;
    if (lines) return lines.join(', ');
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  headerValues(name: string): readonly string[] | undefined {
    return headerLines(this.req, name);
  }
}

const EMPTY_HEADERS: ReadonlyHeaders = { get: () => undefined };

/** The origin's response headers as the upstream_response phase reads them (repeats joined with ", "). */
class OriginHeaders implements ReadonlyHeaders {
  constructor(private readonly headers: Record<string, string | string[] | undefined>) {}

  get(name: string): string | undefined {
    const v = this.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

/**
 * Headers whose repeated lines node:http does not join with ", " in req.headers: it keeps the
 * first User-Agent, Referer, Authorization… and joins Cookie with "; ". The modules read them
 * joined with ", ", as the legacy layer's Lua does. Host and Content-Length are not here: a
 * repeat of either is refused.
 */
const UNJOINED = new Set([
  'age',
  'authorization',
  'content-type',
  'cookie',
  'etag',
  'expires',
  'from',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** Whether some header may have come on more than one line (cheap: no per-header work when none did). */
function hasRepeatedLines(req: IncomingMessage): boolean {
  return req.rawHeaders.length > 2 * Object.keys(req.headers).length;
}

/**
 * The lines of a header the client sent on several (ask when hasRepeatedLines), when req.headers
 * still holds what Node's parser made of them; undefined otherwise. In the gateway's process req.headers are the
 * gateway's upstream headers: a value it rewrote (X-Request-Id, X-Forwarded-Proto) stays.
 */
function sentLines(req: IncomingMessage, name: string): string[] | undefined {
  const lines = req.headersDistinct[name];
  if (!lines || lines.length < 2) return undefined;
  const parsed = name === 'cookie' ? lines.join('; ') : UNJOINED.has(name) ? lines[0] : lines.join(', ');
  return req.headers[name] === parsed ? lines : undefined;
}

/** What a caller in the same process (the gateway's in-process backend) hands to handle(). */
export interface HandleOptions {
  /** Request body to read instead of `req` (the gateway's shadow tee). */
  body?: Readable;
  /** Observer of the response (the gateway's shadow tee). */
  tap?: ResponseTap;
  /** Extra response headers (request id, debug headers). */
  responseHeaders?: Record<string, string>;
  /** Called once when the response is finished or torn down. */
  done?: (outcome: ForwardOutcome) => void;
}

export interface PipelineOptions {
  metrics: Metrics;
  logger: Logger;
  /** Modules in phase order; STANDARD_MODULES by default. */
  modules?: readonly PipelineModule<never>[];
  /** Overrides the origin of products.yaml. */
  origin?: { host: string; port: number };
  /**
   * Write an access line per request (the pipeline as its own service). Off inside the gateway,
   * whose log step writes the line, with the pipeline's reason for a local reply.
   */
  access?: AccessLog;
}

export class Pipeline {
  readonly modules: readonly Loaded[];
  private readonly upstream: HttpBackend;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly access: AccessLog | undefined;
  private readonly trustedProxies: TrustedProxies;
  /** The modules with a log handler, in order. */
  private readonly logging: readonly Loaded[];
  /** Label objects of switchyard_pipeline_module_duration_seconds by timing slot, built once. */
  private readonly timingLabels: { module: string; phase: Phase }[] = [];
  /** Status codes as label values, built on first use (bounded: three digits). */
  private readonly codes = new Map<number, string>();

  constructor(products: ProductsConfig, opts: PipelineOptions) {
    this.metrics = opts.metrics;
    this.logger = opts.logger;
    this.access = opts.access;
    this.trustedProxies = compileTrustedProxies(products.trustedProxies);
    const loaded: Loaded[] = [];
    for (const m of opts.modules ?? STANDARD_MODULES) {
      const module = m as unknown as PipelineModule<unknown, unknown>;
      const config = module.configure(products);
      if (config === undefined) continue;
      // Config is shared by every request and never changes; what does change is the state.
      deepFreeze(config);
      const slot = this.timingLabels.length;
      for (const phase of PHASES) this.timingLabels.push({ module: module.name, phase });
      loaded.push({ module, config, state: module.createState?.(config), slot });
    }
    this.modules = loaded;
    this.logging = loaded.filter((l) => l.module.log);
    const peers = loaded.filter((l) => l.module.peer);
    if (peers.length !== 1) throw new Error(`the pipeline needs exactly one module that names the upstream peer, found ${peers.length}`);
    const peer = peers[0]!.module.peer!(peers[0]!.config);
    const url = opts.origin
      ? new URL(`http://${opts.origin.host.includes(':') ? `[${opts.origin.host}]` : opts.origin.host}:${opts.origin.port}`)
      : new URL(peer.origin);
    this.upstream = new HttpBackend({
      name: 'origin',
      url,
      urls: [url],
      balance: 'least_request',
      connectTimeoutMs: peer.connectTimeoutMs,
      responseTimeoutMs: peer.readTimeoutMs,
      connections: 256,
      queue: 1_000_000,
      requestBuffering: 0,
      retries: NO_RETRIES,
    });
  }

  /** Runs one handler of one module, timing it and containing its errors (no closure per call: this is per request). */
  private run<T>(ctx: Context, l: Loaded, phase: Phase, fn: Handler<T>): T | Error {
    const t0 = performance.now();
    try {
      return fn.call(l.module, ctx, l.config, l.state);
    } catch (err) {
      this.metrics.moduleErrors.inc({ module: l.module.name });
      this.logger.error({ err, module: l.module.name, phase }, 'pipeline module failed');
      return err as Error;
    } finally {
      ctx.timings.push(l.slot + PHASE_INDEX[phase], performance.now() - t0);
    }
  }

  /**
   * The HTTP handler: a request in, a response out, every phase in order. Without `h`, the
   * request came to the pipeline service's own listener (pipeline-server.ts), and one refused
   * at admission ends its connection, as nginx ends it; in the gateway (`h`), the client's
   * connection is the gateway's to keep.
   */
  handle = (req: IncomingMessage, res: ServerResponse, h?: HandleOptions): void => {
    const start = performance.now();
    // Before the Context: an absolute-form target becomes the origin-form path the modules see.
    const refusedTarget = checkEdgeTarget(req);
    const ctx = new Context(req, this.trustedProxies);
    const done = (outcome?: ForwardOutcome) => {
      this.log(ctx, res, start, outcome);
      // No outcome: the pipeline answered locally, and its reason goes to the gateway's access line.
      h?.done?.(outcome ?? { status: ctx.status, bytesOut: ctx.bytesOut, reply: ctx.reason });
    };

    const refused = refusedTarget ?? admit(req, ADMISSION);
    if (refused) {
      ctx.reason = refused.reason;
      if (!h) {
        closeAfter(req, res);
        ctx.refusal = refused;
      }
      return this.reply(
        ctx,
        res,
        { kind: 'respond', status: refused.status, reason: refused.reason, body: errorFields(refused), headers: refused.headers },
        [],
        done,
        h,
      );
    }

    // filter: which modules concern this request.
    const active: Loaded[] = [];
    for (const l of this.modules) if (!l.module.filter || l.module.filter(ctx, l.config, l.state)) active.push(l);

    // request: a module may answer early.
    for (const l of active) {
      if (!l.module.request) continue;
      const d = this.run(ctx, l, 'request', l.module.request as Handler<Verdict>);
      if (d instanceof Error) {
        if (l.module.failure === 'closed') {
          ctx.answeredBy = l.module.name;
          ctx.error = d;
          const e = ERRORS.PIPELINE_MODULE_FAILED;
          return this.reply(
            ctx,
            res,
            { kind: 'respond', status: e.status, reason: `${e.reason}:${l.module.name}`, body: errorFields(e, { module: l.module.name }) },
            active,
            done,
            h,
          );
        }
        continue;
      }
      if (d.kind === 'respond') {
        ctx.answeredBy = l.module.name;
        return this.reply(ctx, res, d, active, done, h);
      }
    }

    // upstream_request: headers for the origin may change, here only.
    const headers = withoutHopByHop(req.headers);
    // Every line of a repeated header goes on as its own line, as nginx passes them.
    if (ctx.repeats) {
      for (const name in headers) {
        const lines = sentLines(req, name);
        if (lines) headers[name] = lines;
      }
    }
    // As nginx's $proxy_add_x_forwarded_for: the client's lines joined, then the client address
    // (after ", " even when the client's header was empty).
    const xff = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = xff === undefined ? ctx.remoteAddress : `${xff}, ${ctx.remoteAddress}`;
    ctx.upstreamHeaders = new HeaderMap(headers, 'upstream request headers');
    ctx.upstreamHeaders.writable = true;
    for (const l of active) if (l.module.upstreamRequest) this.run(ctx, l, 'upstream_request', l.module.upstreamRequest as Handler<void>);
    ctx.upstreamHeaders.writable = false;

    // origin → upstream_response → response, then the body streams to the client.
    this.upstream.forward(
      req,
      res,
      {
        headers: headers as Record<string, string | string[]>,
        body: h?.body,
        tap: h?.tap,
        responseHeaders: h?.responseHeaders,
        beforeResponse: (status, out, origin) => {
          ctx.status = status;
          if (origin) {
            ctx.originHeaders = new OriginHeaders(origin);
            for (const l of active) if (l.module.upstreamResponse) this.run(ctx, l, 'upstream_response', l.module.upstreamResponse as Handler<void>);
          }
          this.responsePhase(ctx, out, active);
        },
      },
      done,
    );
  };

  private responsePhase(ctx: Context, out: OutgoingHttpHeaders, active: readonly Loaded[]): void {
    ctx.responseHeaders = new HeaderMap(out as Record<string, string | string[] | number | undefined>, 'response headers');
    ctx.responseHeaders.writable = true;
    for (const l of active) if (l.module.response) this.run(ctx, l, 'response', l.module.response as Handler<void>);
    ctx.responseHeaders.writable = false;
  }

  private reply(ctx: Context, res: ServerResponse, d: Respond, active: readonly Loaded[], done: (o?: ForwardOutcome) => void, h?: HandleOptions): void {
    ctx.status = d.status;
    ctx.reason = d.reason;
    const body = d.body === undefined ? '' : JSON.stringify(d.body);
    const out: OutgoingHttpHeaders = { ...d.headers, ...h?.responseHeaders, 'content-length': Buffer.byteLength(body) };
    if (body) out['content-type'] = 'application/json';
    this.responsePhase(ctx, out, active);
    // The request body is not needed: drain it so the connection stays usable.
    if (!ctx.req.complete) (h?.body ?? ctx.req).resume();
    res.writeHead(d.status, out);
    res.end(body);
    ctx.bytesOut = Buffer.byteLength(body);
    if (h?.tap) {
      h.tap.onStart(d.status, out as Record<string, string | string[] | undefined>);
      if (body) h.tap.onData(Buffer.from(body));
      h.tap.onEnd();
    }
    done();
  }

  /** log: always runs; the one place where metrics and the access line are written. */
  private log(ctx: Context, res: ServerResponse, start: number, outcome?: ForwardOutcome): void {
    try {
      ctx.durationSeconds = (performance.now() - start) / 1000;
      // Set only by a local reply (a module's, or admission's) until here.
      const reply = ctx.reason;
      const error = outcome?.error;
      if (error) {
        ctx.error = outcome.cause;
        ctx.reason ??= error.reason;
        ctx.status = outcome.status || error.status;
      }
      const status = ctx.status || res.statusCode;
      const m = this.metrics;
      const answeredBy = ctx.answeredBy ?? (reply !== undefined || (error && error !== ERRORS.CLIENT_ABORTED) ? 'pipeline' : 'origin');
      m.pipelineRequests.inc(answeredBy, this.codeOf(status));
      if (ctx.refusal) m.clientErrors.inc({ reason: ctx.refusal.reason });
      m.pipelineDuration.observe(ctx.durationSeconds);
      const t = ctx.timings;
      for (let i = 0; i < t.length; i += 2) {
        const l = this.timingLabels[t[i]!]!;
        m.moduleDuration.observe(t[i + 1]! / 1000, l.module, l.phase);
      }
      for (const l of this.logging) {
        const t0 = performance.now();
        try {
          l.module.log!(ctx, l.config, l.state);
        } catch (err) {
          m.moduleErrors.inc({ module: l.module.name });
          this.logger.error({ err, module: l.module.name, phase: 'log' }, 'pipeline module failed');
        }
        m.moduleDuration.observe((performance.now() - t0) / 1000, l.module.name, 'log');
      }
      if (this.access) {
        // Every request takes its bytes, sampled or not, so that the next one counts from here.
        const bytesIn = bytesInOf(ctx.socket);
        if (this.access.sampled()) {
          this.access.write({
            request_id: ctx.header(REQUEST_ID),
            method: ctx.method,
            path: ctx.path,
            status,
            duration_ms: durationMs(ctx.durationSeconds),
            bytes_in: bytesIn,
            bytes_out: outcome ? outcome.bytesOut : ctx.bytesOut,
            reply,
            error: (error ?? ctx.refusal)?.reason,
            cause: outcome?.cause?.message,
          });
        }
      }
    } catch (err) {
      this.logger.error({ err }, 'pipeline log step failed');
    }
  }

  /** The status code as a label value, the same string for every request alike. */
  private codeOf(status: number): string {
    let code = this.codes.get(status);
    if (code === undefined) this.codes.set(status, (code = String(status)));
    return code;
  }

  /** The log step of a request Node's parser refused on the pipeline's own listener. */
  logRefused(r: RefusedRequest): void {
    try {
      this.metrics.pipelineRequests.inc('pipeline', this.codeOf(r.error.status));
      this.metrics.clientErrors.inc({ reason: r.error.reason });
      if (this.access?.sampled()) {
        this.access.write({ method: r.method, path: r.path, status: r.error.status, bytes_in: r.bytesIn, bytes_out: r.bytesOut, error: r.error.reason });
      }
    } catch (err) {
      this.logger.error({ err }, 'pipeline log step failed');
    }
  }

  /**
   * Replaced by a reload (SIGHUP): requests already in this pipeline finish on it, then its
   * origin pool closes. The access log stays open: the next pipeline writes to it.
   */
  retire(): Promise<void> {
    return this.upstream.close();
  }

  close(): Promise<void> {
    this.access?.close();
    return this.upstream.destroy();
  }
}
