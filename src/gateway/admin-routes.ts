/**
 * The admin endpoints of a gateway: /healthz, /readyz, /metrics (public: also on
 * admin.public_listen), GET and PUT /rules, /routes, /diffs (request samples: needs the admin token).
 * (the rollout endpoints are in rollout-routes.ts).
 */
import { ConfigError } from '../config/yaml-source.js';
import type { GatewayRuntime } from './contracts.js';
import { parseRuleSet } from '../rules/rule-set.js';
import { RedisRuleSource } from '../store/redis-rule-source.js';
import { VersionConflictError } from '../store/rule-store.js';
import { ruleContextOf, type RuleSource } from '../store/rule-source.js';
import { adminError, type AdminServer } from '../admin/admin-server.js';
import { ERRORS } from '../errors.js';
import type { ShadowRuntime } from '../shadow/shadow-step.js';
import { parseSince } from '../util/since.js';

export function registerAdminRoutes(admin: AdminServer, rt: GatewayRuntime, source: () => RuleSource | undefined, shadow: ShadowRuntime): void {
  const open = { public: true };
  admin.route('GET', '/healthz', () => ({ status: 200, body: { status: 'ok' } }), open);

  admin.route('GET', '/readyz', () => {
    const meta = rt.rules.meta;
    if (!meta) return { status: 503, body: { ready: false, reason: 'no rule set loaded yet' } };
    return { status: 200, body: { ready: true, source: meta.source, version: meta.version, applied_at: meta.appliedAt.toISOString(), note: meta.note } };
  }, open);

  admin.route('GET', '/metrics', async () => ({
    status: 200,
    body: await rt.metrics.registry.metrics(),
    contentType: rt.metrics.registry.contentType,
  }), open);

  admin.route('GET', '/rules', () => {
    const meta = rt.rules.meta;
    const rules = rt.rules.rules;
    if (!meta || !rules) return adminError(ERRORS.NOT_READY);
    return { status: 200, body: { version: meta.version, source: meta.source, applied_at: meta.appliedAt.toISOString(), yaml: rules.text } };
  });

  // Does what `switchyard rules push` does: same validation, same errors (as JSON).
  admin.route('PUT', '/rules', async (req, url, body) => {
    if (!admin.authorized(req)) return adminError(ERRORS.ADMIN_UNAUTHORIZED);
    const src = source();
    if (!(src instanceof RedisRuleSource)) return adminError(ERRORS.RULES_NOT_IN_REDIS);
    try {
      parseRuleSet(body, 'request-body', ruleContextOf(rt.config));
    } catch (err) {
      if (err instanceof ConfigError) return adminError(ERRORS.CONFIG_INVALID, { errors: err.issues });
      throw err;
    }
    const ifMatch = req.headers['if-match'];
    const expect = url.searchParams.get('expect_version') ?? (typeof ifMatch === 'string' ? ifMatch.replace(/"/g, '') : undefined);
    try {
      const version = await src.ruleStore.push(body, {
        author: String(req.headers['x-switchyard-author'] ?? 'admin-api'),
        message: url.searchParams.get('message') ?? '',
        expectVersion: expect === undefined || expect === '' ? undefined : Number(expect),
      });
      return { status: 200, body: { version } };
    } catch (err) {
      if (err instanceof VersionConflictError) return adminError(ERRORS.RULES_VERSION_CONFLICT, { message: err.message, active_version: err.actual });
      return adminError(ERRORS.RULES_STORE_UNAVAILABLE, { cause: (err as Error).message });
    }
  });

  // The shadow diff report of this process: per route, match rate, noise, top differing fields.
  // `?since=10m` reads the per-minute tallies instead of the life of the process.
  admin.route('GET', '/diffs', (_req, url) => {
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 10) || 10));
    const route = url.searchParams.get('route') ?? undefined;
    const since = url.searchParams.get('since');
    const ms = since ? parseSince(since) : undefined;
    if (since && ms === undefined) return adminError(ERRORS.ADMIN_BAD_REQUEST, { message: `since expects a duration such as "10m" or "1h", got ${JSON.stringify(since)}` });
    const from = ms === undefined ? undefined : Date.now() - ms;
    return { status: 200, body: { since: from === undefined ? null : new Date(from).toISOString(), routes: shadow.report.report((r) => shadow.noise.fields(r), route, limit, from) } };
  }, { auth: true });

  // The active routes as configured: split, sticky key, shadow share (the console's "configured").
  admin.route('GET', '/routes', () => {
    const rules = rt.rules.rules;
    if (!rules) return adminError(ERRORS.NOT_READY);
    return {
      status: 200,
      body: {
        version: rt.rules.meta?.version ?? null,
        routes: rules.routes.map((r) => ({
          route: r.name,
          split: r.split.percent,
          sticky: r.sticky?.spec ?? null,
          shadow: r.shadow ? { percent: r.shadow.percent, to: r.shadow.to ?? null } : null,
        })),
      },
    };
  });
}
