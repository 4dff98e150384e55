/**
 * The contracts of the gateway's request lifecycle (gateway/lifecycle.ts): what is built once
 * and shared by every request (GatewayRuntime), and the one small object a request allocates
 * (RequestContext). Steps below the gateway define their own contracts (forward/backend.ts,
 * shadow/shadow-step.ts); both objects here satisfy them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Backend } from '../forward/backend.js';
import type { UpgradeProxy } from '../forward/websocket.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/catalogue.js';
import type { Decision } from '../router/decide.js';
import type { TrustedProxies } from '../http/client-address.js';
import type { TraceContext } from '../http/trace-context.js';
import type { RequestFacts } from '../router/request-facts.js';
import type { Route, RuleSet } from '../rules/rule-set.js';
import type { ShadowRequest, ShadowStep } from '../shadow/shadow-step.js';
import type { ActiveRules } from '../store/active-rules.js';
import type { Evidence } from '../rollout/evidence.js';

/** Per request: the only allocation the lifecycle makes besides what Node and undici make. */
export interface RequestContext extends ShadowRequest {
  req: IncomingMessage;
  res: ServerResponse;
  startNs: bigint;
  requestId: string;
  rules: RuleSet;
  facts: RequestFacts;
  decision: Decision<Route>;
  /** Headers of the upstream request (the shadow copy reuses them). */
  upstreamHeaders: Record<string, string | string[]>;
  trace: TraceContext;
}

/** Everything built once and shared by all requests. */
export interface GatewayRuntime {
  config: GatewayConfig;
  rules: ActiveRules;
  backends: ReadonlyMap<string, Backend>;
  backendNames: ReadonlySet<string>;
  overrideTokenDigest?: Buffer;
  /** gateway.yaml trusted_proxies, compiled. */
  trustedProxies: TrustedProxies;
  metrics: Metrics;
  logger: Logger;
  shadow?: ShadowStep;
  /** Rollout evidence, counted in the log step (set when the rules come from Redis). */
  evidence?: Evidence;
  upgrades: UpgradeProxy;
  draining: boolean;
}
