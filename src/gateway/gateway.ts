/**
 * The gateway process: builds what is built once (upstream pools, metrics, the rule source),
 * opens the client and admin listeners, and shuts them down gracefully.
 */
import { mkdirSync } from 'node:fs';
import { type AdminReply, type AdminRequest, AdminServer } from '../admin/admin-server.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { registerConsole } from '../console/console-routes.js';
import type { Backend } from '../forward/backend.js';
import { HttpBackend } from '../forward/http-backend.js';
import { UpgradeProxy } from '../forward/websocket.js';
import { compileTrustedProxies } from '../http/client-address.js';
import { answerClientError, refuseConnect } from '../http/client-errors.js';
import { Listener, type ListenerHandlers } from '../http/listener.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createMetrics, type Metrics } from '../metrics/catalogue.js';
import { InProcessBackend } from '../pipeline/in-process-backend.js';
import { digestToken } from '../router/decide.js';
import { createShadowStep, type ShadowRuntime } from '../shadow/shadow-step.js';
import { ActiveRules } from '../store/active-rules.js';
import { RedisRuleSource } from '../store/redis-rule-source.js';
import { type RuleSource, startRuleSource } from '../store/rule-source.js';
import { registerAdminRoutes } from './admin-routes.js';
import type { GatewayRuntime } from './contracts.js';
import { createRequestHandler, createUpgradeHandler } from './lifecycle.js';
import { createLogStep, type LogStep } from './log-step.js';
import { registerRolloutRoutes } from './rollout-routes.js';
import { type RolloutRuntime, startRolloutRuntime } from './rollout-runtime.js';
import { RouteBudgets } from './route-budgets.js';

export interface GatewayOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** Open the admin listener (false in a worker: the primary serves admin and relays). */
  adminListener?: boolean;
}

async function startBackends(config: GatewayConfig, metrics: Metrics, logger: Logger): Promise<Map<string, Backend>> {
  const out = new Map<string, Backend>();
  for (const b of config.backends) out.set(b.name, b.inprocess ? await InProcessBackend.start(b, metrics, logger) : new HttpBackend(b, { metrics, logger }));
  return out;
}

export class Gateway {
  private listeners: Listener[] = [];
  private readonly admin: AdminServer;
  private ruleSource: RuleSource | undefined;
  private shadow: ShadowRuntime | undefined;
  private rollout: RolloutRuntime | undefined;
  private readonly logStep: LogStep;

  private constructor(readonly runtime: GatewayRuntime) {
    this.admin = new AdminServer(runtime.config.admin.token);
    this.logStep = createLogStep(runtime);
  }

  /** The same handlers on every listener, whatever its protocol, ending in one log step. */
  private handlers(): ListenerHandlers {
    const rt = this.runtime;
    const logStep = this.logStep;
    return {
      request: createRequestHandler(rt, logStep),
      upgrade: createUpgradeHandler(rt, logStep),
      clientError: (err, socket) => {
        const refused = answerClientError(err, socket, rt.config.limits.maxUrlBytes);
        if (refused) logStep.refused(refused);
      },
      connect: (req, socket) => {
        const refused = refuseConnect(req, socket);
        if (refused) logStep.refused(refused);
      },
    };
  }

  static async start(config: GatewayConfig, opts: GatewayOptions = {}): Promise<Gateway> {
    const logger = opts.logger ?? createLogger(config.log.level);
    const metrics = opts.metrics ?? createMetrics();
    // Here rather than at config load (explain and rules validate read the config too). Samples
    // hold request data: owner only. A failure is not fatal: the writers log their own errors.
    try {
      mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      logger.warn(
        { state_dir: config.stateDir, err: (err as Error).message },
        'cannot create state_dir; the rules snapshot and diff samples will not be written',
      );
    }
    const runtime: GatewayRuntime = {
      config,
      rules: new ActiveRules(metrics),
      backends: await startBackends(config, metrics, logger),
      backendNames: new Set(config.backends.map((b) => b.name)),
      overrideTokenDigest: digestToken(config.override.token),
      trustedProxies: compileTrustedProxies(config.trustedProxies),
      metrics,
      logger,
      budgets: new RouteBudgets(),
      upgrades: new UpgradeProxy(),
      draining: false,
    };
    runtime.rules.onApply((rules) => runtime.budgets.apply(rules));
    const gw = new Gateway(runtime);
    gw.shadow = createShadowStep(runtime);
    runtime.shadow = gw.shadow;
    registerRolloutRoutes(gw.admin, () => gw.rollout);
    registerAdminRoutes(gw.admin, runtime, () => gw.ruleSource, gw.shadow);
    registerConsole(gw.admin, config);
    try {
      if (opts.adminListener !== false) {
        await gw.admin.listen(config.admin.listen);
        if (config.admin.publicListen) await gw.admin.listenPublic(config.admin.publicListen);
      }
      gw.ruleSource = await startRuleSource(config, runtime.rules, metrics, logger);
      if (gw.ruleSource instanceof RedisRuleSource) gw.rollout = startRolloutRuntime(runtime, gw.ruleSource);
      const handlers = gw.handlers();
      for (const l of config.listeners) gw.listeners.push(await Listener.open(l, handlers, config.limits, logger));
    } catch (err) {
      await gw.stop(0);
      throw err;
    }
    const listeners = gw.listeners.map((l) => l.url + (l.config.h2c ? ' (+h2c)' : ''));
    logger.info(
      { listen: gw.port, admin: gw.adminPort, listeners, source: runtime.rules.meta?.source, exec_argv: process.execArgv, public_admin: gw.admin.publicPort },
      'gateway started',
    );
    return gw;
  }

  /** The first listener's port. */
  get port(): number {
    return this.listeners[0]?.port ?? 0;
  }

  /** Every listener's port, in `listen` order. */
  get ports(): number[] {
    return this.listeners.map((l) => l.port);
  }

  get adminPort(): number {
    return this.admin.port;
  }

  /** The port of admin.public_listen (/healthz, /readyz, /metrics only); undefined when not configured. */
  get publicAdminPort(): number | undefined {
    return this.admin.publicPort;
  }

  /** Answers an admin request without the listener (a worker relaying for the primary). */
  dispatchAdmin(req: AdminRequest): Promise<AdminReply> {
    return this.admin.dispatch(req);
  }

  /**
   * SIGHUP: re-reads the rules file when the rules come from one (the Redis source polls), the
   * products file of each in-process pipeline, and the certificates of the TLS listeners. Each
   * logs one line with its outcome; what is refused keeps the active version.
   */
  reload(): void {
    const rt = this.runtime;
    const products = rt.config.backends.flatMap((b) => (b.inprocess ? [b.inprocess.products] : []));
    rt.logger.info({ signal: 'SIGHUP', rules: rt.config.rules.redis ? 'redis' : rt.config.rules.file, products }, 'reloading');
    this.ruleSource?.reload?.();
    for (const b of rt.backends.values()) b.reload?.();
    for (const l of this.listeners) l.reloadTls('signal');
  }

  /**
   * Graceful stop: refuse new connections, let in-flight requests finish until `deadlineMs`,
   * then close what is left, the pools, the rule source and the admin listener.
   */
  async stop(deadlineMs = 10_000): Promise<void> {
    const rt = this.runtime;
    rt.draining = true;
    // Idle keep-alive connections close now; busy ones finish their response with
    // `connection: close` (see the lifecycle), HTTP/2 ones get GOAWAY, and then close.
    const closed = Promise.all(this.listeners.map((l) => l.close()));
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([closed, deadline]);
    for (const l of this.listeners) l.destroy();
    await this.rollout?.close();
    await this.shadow?.close();
    await Promise.allSettled([...rt.backends.values()].map((u) => u.destroy()));
    rt.upgrades.close();
    await this.ruleSource?.stop();
    await this.admin.close();
    // Last: the exchanges cut short above have written their lines by now.
    this.logStep.close();
  }
}
