/**
 * The admin endpoints of rollouts: `GET /rollouts[?route=NAME]` (the status of every rollout of
 * the active rules), `POST /rollouts/ROUTE/ACTION` (pause, resume, promote, abort; admin token),
 */
import { adminError, type AdminReply, type AdminServer } from '../admin/admin-server.js';
import { ERRORS, errorFields } from '../errors.js';
import { ACTIONS, RolloutError, type Action } from '../rollout/rollouts.js';
import type { RolloutRuntime } from './rollout-runtime.js';

const NO_REDIS = adminError(ERRORS.RULES_NOT_IN_REDIS, { message: 'rollouts need rules.redis in the gateway config' });

function failed(err: unknown): AdminReply {
  // The catalogue entry with the status the controller chose (404 for an unknown route).
  if (err instanceof RolloutError) return { status: err.status, body: errorFields(ERRORS.ROLLOUT_REFUSED, { message: err.message }) };
  return adminError(ERRORS.RULES_STORE_UNAVAILABLE, { cause: (err as Error).message });
}

export function registerRolloutRoutes(admin: AdminServer, runtime: () => RolloutRuntime | undefined): void {
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
    const parts = url.pathname.split('/').filter(Boolean);
    const [, route, action] = parts;
    if (parts.length !== 3 || !route || !(ACTIONS as readonly string[]).includes(action!)) {
      return adminError(ERRORS.ADMIN_NOT_FOUND, { message: `expected POST /rollouts/ROUTE/ACTION with ACTION one of ${ACTIONS.join(', ')}` });
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
  }, { auth: true });
}
