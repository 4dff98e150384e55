/**
 * `--workers N`: node:cluster workers serving the same client port. The primary owns the admin
 * listener: /metrics aggregates every worker's registry (a worker that does not answer within
 * the scrape budget is left out, not waited for), /diffs merges the workers' reports, and the
 * other endpoints are relayed to one live worker. A worker that dies is replaced. SIGTERM or
 * SIGINT on the primary drains every worker (each logs its own drain and exits as soon as it is
 * done) and exits 0. Gauges are merged as the catalogue declares (metrics/catalogue.ts): the rule
 * version, source, weights and health read the same from every worker instead of adding up.
 * SIGHUP is passed on to every worker (rules file, in-process products and TLS certificate reload).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { type AdminReply, type AdminRequest, AdminServer, adminError } from '../admin/admin-server.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { registerConsole } from '../console/console-routes.js';
import { ERRORS } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { createMetrics } from '../metrics/catalogue.js';
import { mergeReports, type RouteReport } from '../shadow/report.js';
import { Gateway } from './gateway.js';

/** How long the primary waits for a worker's answer to an admin request. */
const WORKER_REPLY_MS = 1000;

type ToWorker = { type: 'admin'; id: number; req: AdminRequest } | { type: 'metrics'; id: number };
type FromWorker = { type: 'admin-reply'; id: number; reply: AdminReply } | { type: 'metrics-reply'; id: number; metrics: object[] } | { type: 'ready' };

/** Runs in each worker: a gateway without its own admin listener, answering the primary's relays. */
export async function runWorker(config: GatewayConfig, logger: Logger, drainMs: number): Promise<void> {
  const metrics = createMetrics();
  let started: Gateway | undefined;
  process.on('SIGHUP', () => started?.reload());
  const gw = (started = await Gateway.start(config, { logger, metrics, adminListener: false }));
  process.on('message', (m: ToWorker) => {
    if (m.type === 'metrics') {
      void metrics.registry.getMetricsAsJSON().then((json) => process.send?.({ type: 'metrics-reply', id: m.id, metrics: json } satisfies FromWorker));
    } else if (m.type === 'admin') {
      void gw.dispatchAdmin(m.req).then((reply) => process.send?.({ type: 'admin-reply', id: m.id, reply } satisfies FromWorker));
    }
  });
  process.send?.({ type: 'ready' } satisfies FromWorker);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      const started = Date.now();
      logger.info({ signal, drain_ms: drainMs }, 'worker draining');
      void gw
        .stop(drainMs)
        .then(
          () => logger.info({ duration_ms: Date.now() - started }, 'worker drained'),
          (err: Error) => logger.error({ err }, 'worker stop failed'),
        )
        .finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // The IPC channel to the primary keeps a worker's event loop alive: without this, a drained
  // worker would wait for the primary's SIGKILL at the drain deadline (issue 13).
  process.disconnect?.();
}

/** Runs in the primary: forks, replaces, relays, aggregates; resolves after a clean shutdown. */
export async function runPrimary(config: GatewayConfig, count: number, logger: Logger, drainMs: number): Promise<void> {
  let stopping = false;
  let nextId = 1;
  const pending = new Map<number, (m: FromWorker) => void>();
  const ready = new Set<Worker>();

  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        ready.add(w);
        logger.info({ worker: w.id, worker_pid: w.process.pid }, 'worker ready');
      } else pending.get(m.id)?.(m);
    });
    return w;
  };
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w);
    if (stopping) return logger.info({ worker: w.id, worker_pid: w.process.pid, code, signal }, 'worker exited');
    logger.error({ worker: w.id, worker_pid: w.process.pid, code, signal }, 'worker died; starting a replacement');
    fork();
  });

  /** Asks one worker; resolves undefined when it does not answer in time. */
  const ask = (w: Worker, msg: ToWorker): Promise<FromWorker | undefined> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(msg.id);
        resolve(undefined);
      }, WORKER_REPLY_MS);
      pending.set(msg.id, (m) => {
        clearTimeout(timer);
        pending.delete(msg.id);
        resolve(m);
      });
      try {
        w.send(msg);
      } catch {
        clearTimeout(timer);
        pending.delete(msg.id);
        resolve(undefined);
      }
    });

  const live = () => [...ready].filter((w) => w.isConnected() && !w.isDead());

  const admin = new AdminServer(config.admin.token);
  const relay = async (req: AdminRequest): Promise<AdminReply> => {
    for (const w of live()) {
      const r = await ask(w, { type: 'admin', id: nextId++, req });
      if (r?.type === 'admin-reply') return r.reply;
    }
    return adminError(ERRORS.ADMIN_NO_WORKER);
  };
  admin.route(
    'GET',
    '/healthz',
    () => ({ status: live().length ? 200 : 503, body: { status: live().length ? 'ok' : 'no live worker', workers: live().length } }),
    { public: true },
  );
  admin.route(
    'GET',
    '/metrics',
    async () => {
      const answers = await Promise.all(live().map((w) => ask(w, { type: 'metrics', id: nextId++ })));
      const parts = answers.filter((a): a is Extract<FromWorker, { type: 'metrics-reply' }> => a?.type === 'metrics-reply').map((a) => a.metrics);
      const registry = AggregatorRegistry.aggregate(parts);
      return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
    },
    { public: true },
  );
  admin.route(
    'GET',
    '/diffs',
    async (req, url) => {
      // A window comes from the fleet's evidence in Redis: any one worker has all of it.
      if (url.searchParams.has('since')) return relay(req);
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 10) || 10));
      // Every worker's full field list, so that the merged rows are cut once, here.
      const all = new URL(url);
      all.searchParams.set('limit', '100');
      const relayed = { ...req, url: all.pathname + all.search };
      const answers = await Promise.all(live().map((w) => ask(w, { type: 'admin', id: nextId++, req: relayed })));
      const bad = answers.find((a) => a?.type === 'admin-reply' && a.reply.status === 400);
      if (bad) return (bad as Extract<FromWorker, { type: 'admin-reply' }>).reply;
      const bodies = answers
        .filter((a) => a?.type === 'admin-reply' && a.reply.status === 200)
        .map((a) => (a as Extract<FromWorker, { type: 'admin-reply' }>).reply.body as { since: string | null; routes: RouteReport[] });
      return {
        status: 200,
        body: {
          since: bodies[0]?.since ?? null,
          routes: mergeReports(
            bodies.map((b) => b.routes),
            limit,
          ),
          workers: bodies.length,
        },
      };
    },
    { auth: true },
  );
  admin.route('GET', '/readyz', (req) => relay(req), { public: true });
  for (const [method, path] of [
    ['GET', '/rules'],
    ['PUT', '/rules'],
    ['GET', '/routes'],
    ['GET', '/rollouts'],
  ] as const) {
    admin.route(method, path, (req) => relay(req));
  }
  admin.routePrefix('POST', '/rollouts/', (req) => relay(req));

  registerConsole(admin, config);

  // SIGHUP (rules file, products and certificate reload) is for the workers, which hold the rules,
  // the pipeline and the listeners; only ready ones have their handler installed (Node's default
  // would end a booting one).
  process.on('SIGHUP', () => {
    for (const w of live()) w.process.kill('SIGHUP');
  });
  for (let i = 0; i < count; i++) fork();
  await admin.listen(config.admin.listen);
  if (config.admin.publicListen) await admin.listenPublic(config.admin.publicListen);
  logger.info({ admin: admin.port, workers: count, public_admin: admin.publicPort }, 'primary started');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping workers');
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      let left = workers.length;
      if (left === 0) resolve();
      for (const w of workers) {
        w.once('exit', () => --left === 0 && resolve());
        w.process.kill('SIGTERM');
      }
      setTimeout(() => {
        for (const w of workers) {
          if (w.isDead()) continue;
          logger.error({ worker: w.id, worker_pid: w.process.pid }, 'worker did not stop by the drain deadline; SIGKILL');
          w.process.kill('SIGKILL');
        }
      }, drainMs + 2000).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await admin.close();
}
