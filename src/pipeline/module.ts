/**
 * The module contract of the new pipeline (docs/modules.md, docs/lifecycle.md).
 *
 * A module declares its name, how it builds its config from config/products.yaml (once, when
 * config loads, never per request; the engine deep-freezes it), optionally the mutable state it
 * keeps while requests run (built from the config once per pipeline, handed to every handler),
 * a cheap filter saying whether it concerns a request, and handlers for the phases it runs in. Each phase hands the handler a context that exposes only
 * what that phase may read and change: request headers for the origin are writable only in
 * `upstream_request`, response headers only in `response`. The types enforce this; the header
 * maps enforce it again at run time (a write outside its phase throws, and counts as an error of
 * the module).
 */
import type { ProductsConfig } from '../products/products-config.js';
import type { HeaderMap, ReadonlyHeaders } from './header-map.js';

/** The phases, in the order they run. */
export const PHASES = ['request', 'upstream_request', 'upstream_response', 'response', 'log'] as const;
export type Phase = (typeof PHASES)[number];

/** What every phase may read about the client's request. */
export interface RequestView {
  readonly method: string;
  /** As sent, without the query string. */
  readonly path: string;
  /** Raw query string, without "?". */
  readonly query: string;
  readonly remoteAddress: string;
  /** A request header (lowercase name); repeated headers joined with ", ". */
  header(name: string): string | undefined;
  /**
   * Every line of a header as the client sent it, one value per line (the WAF checks each);
   * unlike header(), also the repeats Node drops for Host, User-Agent and the like.
   */
  headerValues(name: string): readonly string[] | undefined;
}

/** Per-request scratch space shared by the modules (pingora's CTX); namespace keys by module. */
export type Vars = Record<string, unknown>;

/**
 * A local reply: the module answers instead of the origin. `reason` (bounded: a word, or
 * `kind:rule-id` such as `waf:1001`) goes to the log phase and to the access line's `reply`.
 */
export interface Respond {
  kind: 'respond';
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialisable body, or undefined for an empty body. */
  body?: unknown;
  reason: string;
}
export type Verdict = { kind: 'continue' } | Respond;
export const CONTINUE: Verdict = Object.freeze({ kind: 'continue' });

export function respond(status: number, reason: string, body?: unknown, headers?: Record<string, string>): Respond {
  return { kind: 'respond', status, reason, body, headers };
}

/** `request`: runs first; may answer early. Reads the request; changes nothing. */
export interface RequestPhase {
  readonly request: RequestView;
  readonly vars: Vars;
}

/** `upstream_request`: before the origin call; may change the headers sent to the origin. */
export interface UpstreamRequestPhase {
  readonly request: RequestView;
  readonly vars: Vars;
  readonly upstreamHeaders: HeaderMap;
}

/** `upstream_response`: the origin's status and headers arrived; read-only. */
export interface UpstreamResponsePhase {
  readonly request: RequestView;
  readonly vars: Vars;
  readonly status: number;
  readonly originHeaders: ReadonlyHeaders;
}

/** `response`: before the response goes to the client, local replies included; may change its headers. */
export interface ResponsePhase {
  readonly request: RequestView;
  readonly vars: Vars;
  readonly status: number;
  readonly responseHeaders: HeaderMap;
  /** The module that answered locally, if one did. */
  readonly answeredBy: string | undefined;
}

/** `log`: always runs, also after errors; the one place for metrics and log lines. */
export interface LogPhase {
  readonly request: RequestView;
  readonly vars: Vars;
  readonly status: number;
  readonly durationSeconds: number;
  readonly answeredBy: string | undefined;
  readonly reason: string | undefined;
  readonly error: Error | undefined;
}

/** Where the request goes when no module answered (pingora's upstream_peer). */
export interface Peer {
  /** Base URL of the upstream, e.g. http://127.0.0.1:9000. */
  origin: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

export interface PipelineModule<C = unknown, S = undefined> {
  name: string;
  /** Builds the module's config from products.yaml, once; undefined turns the module off. The engine deep-freezes it. */
  configure(products: ProductsConfig): C | undefined;
  /**
   * Builds what the module changes while requests run (counters, token buckets, caches), once
   * per pipeline, from its frozen config; every handler gets it as its last argument. Two
   * pipelines built from the same config get two states. Absent = no state (undefined).
   */
  createState?(config: C): S;
  /** Cheap: does this module concern this request? Absent = always. Runs once per request. */
  filter?(request: RequestView, config: C, state: S): boolean;
  /** What happens to the request when a handler throws: continue (open) or 503 (closed). */
  failure: 'open' | 'closed';
  request?(ctx: RequestPhase, config: C, state: S): Verdict;
  upstreamRequest?(ctx: UpstreamRequestPhase, config: C, state: S): void;
  upstreamResponse?(ctx: UpstreamResponsePhase, config: C, state: S): void;
  response?(ctx: ResponsePhase, config: C, state: S): void;
  log?(ctx: LogPhase, config: C, state: S): void;
  /** The origin module answers this; exactly one configured module must. */
  peer?(config: C): Peer;
}

/** Identity helper that keeps the config and state types of a module definition. */
export function defineModule<C, S = undefined>(m: PipelineModule<C, S>): PipelineModule<C, S> {
  return m;
}
