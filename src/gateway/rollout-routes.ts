/**
 * The admin endpoints of rollouts: `GET /rollouts[?route=NAME]` (the status of every rollout of
 * the active rules), `POST /rollouts/ROUTE/ACTION` (pause, resume, promote, abort; admin token),
 * and the windowed diff report `GET /diffs?since=10m` (fleet-wide, from the rollout evidence).
 */
import type { AdminReply, AdminServer } from '../admin/admin-server.js';
import { ACTIONS, RolloutError, type Action } from '../rollout/rollouts.js';
import { parseSince, windowedDiffs } from '../rollout/windowed-diffs.js';
import type { RolloutRuntime } from './rollout-runtime.js';

const NO_REDIS: AdminReply = { status: 409, body: { error: 'rollouts need rules.redis in the gateway config' } };

function failed(err: unknown): AdminReply {
  if (err instanceof RolloutError) return { status: err.status, body: { error: err.message } };
  return { status: 503, body: { error: `redis: ${(err as Error).message}` } };
}

export function registerRolloutRoutes(admin: AdminServer, runtime: () => RolloutRuntime | undefined, routeNames: () => readonly string[]): (since: string) => Promise<AdminReply> {
  admin.route('GET', '/rollouts', async (_req, url) => {
    const r = runtime();
    if (!r) return NO_REDIS;
    try {
      return { status: 200, body: { rollouts: await r.rollouts.status(url.searchParams.get('route') ?? undefined) } };
    } catch (err) {
      return failed(err);
    }
  });

  admin.routePrefix('POST', '/rollouts/', async (req, url) => {
    if (!admin.authorized(req)) return { status: 401, body: { error: 'a valid "Authorization: Bearer <admin.token>" is required' } };
    const parts = url.pathname.split('/').filter(Boolean);
    const [, route, action] = parts;
    if (parts.length !== 3 || !route || !(ACTIONS as readonly string[]).includes(action!)) {
      return { status: 404, body: { error: `expected POST /rollouts/ROUTE/ACTION with ACTION one of ${ACTIONS.join(', ')}` } };
    }
    const r = runtime();
    if (!r) return NO_REDIS;
    try {
      const author = String(req.headers['x-switchyard-author'] ?? 'admin-api');
      const state = await r.rollouts.act(decodeURIComponent(route), action as Action, author);
      return { status: 200, body: { rollout: state } };
    } catch (err) {
      return failed(err);
    }
  });

  return async (since) => {
    const ms = parseSince(since);
    if (ms === undefined) return { status: 400, body: { error: `since expects a duration such as "10m", got ${JSON.stringify(since)}` } };
    const r = runtime();
    if (!r) return NO_REDIS;
    try {
      const now = Date.now();
      const routes = await windowedDiffs(r.evidence.redis, r.evidence.options, routeNames(), now - ms);
      return { status: 200, body: { since: new Date(now - ms).toISOString(), routes } };
    } catch (err) {
      return failed(err);
    }
  };
}
