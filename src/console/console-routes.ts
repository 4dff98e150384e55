/**
 * The migration console at /ui on the admin listener: server-rendered pages on top of the admin
 * JSON API (GET /routes, /metrics, /diffs, /rollouts), read through the admin server's own
 * dispatch so that a gateway with --workers shows the merged view of its workers. Read access
 * needs the admin token (login cookie or bearer); writes also need the same origin and a CSRF
 * token (see console-auth.ts). Stored samples come from the sample sink (sample-reader.ts).
 */
import type { AdminReply, AdminRequest, AdminServer } from '../admin/admin-server.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { RouteReport } from '../shadow/report.js';
import { readSamples, sampleSource } from '../shadow/sample-reader.js';
import { ConsoleAuth } from './console-auth.js';
import { loginPage, PAGE_HEADERS } from './console-html.js';
import { renderOverview, type ConfiguredRoute, type RolloutView } from './console-page.js';
import { renderSamples } from './console-samples.js';

const HTML = 'text/html; charset=utf-8';
const WINDOWS = [
  { key: '5m', label: '5 min' },
  { key: '1h', label: '1 hour' },
  { key: 'all', label: 'since start' },
];
const ACTIONS = new Set(['pause', 'resume', 'promote', 'abort']);
const PLACEMENT = /^switchyard_route_placements_total\{([^}]*)\}\s+(\S+)/;

const html = (status: number, body: string, headers: Record<string, string> = {}): AdminReply => ({ status, body, contentType: HTML, headers: { ...PAGE_HEADERS, ...headers } });
const redirect = (to: string, headers: Record<string, string> = {}): AdminReply => ({ status: 303, body: '', contentType: HTML, headers: { ...PAGE_HEADERS, location: to, ...headers } });

/** Sums the placements counters by route and backend. */
export function parsePlacements(metricsText: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const line of metricsText.split('\n')) {
    const m = PLACEMENT.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (!labels.route || !labels.backend) continue;
    let r = out.get(labels.route);
    if (!r) out.set(labels.route, (r = new Map()));
    r.set(labels.backend, (r.get(labels.backend) ?? 0) + Number(m[2]));
  }
  return out;
}

export function registerConsole(admin: AdminServer, config: GatewayConfig): void {
  const auth = new ConsoleAuth(config.admin.token);
  // The console's own reads of the JSON API: the page is behind the login, so they carry the token.
  const internal = config.admin.token ? { authorization: `Bearer ${config.admin.token}` } : {};
  const get = async (url: string): Promise<AdminReply> => admin.dispatch({ method: 'GET', url, headers: internal, body: '' });
  const refuse = (req: AdminRequest) =>
    html(401, loginPage(auth.enabled ? (auth.session(req) === undefined && /switchyard_console=/.test(String(req.headers.cookie ?? '')) ? 'Your session has expired: log in again.' : undefined) : 'The console needs admin.token in the gateway config.'));

  async function rollouts(): Promise<RolloutView[]> {
    const r = await get('/rollouts');
    const list = r.status === 200 ? (r.body as { rollouts?: RolloutView[] }).rollouts : undefined;
    return Array.isArray(list) ? list : [];
  }

  /** The diff report of a window: 5m, 1h, all, or step (each rollout route since its current step began). */
  async function diffs(window: string, ro: RolloutView[]): Promise<RouteReport[]> {
    const since = window === '5m' || window === '1h' ? `&since=${window}` : '';
    const base = ((await get(`/diffs?limit=20${since}`)).body as { routes?: RouteReport[] }).routes ?? [];
    if (window !== 'step') return base;
    const byRoute = new Map(base.map((r) => [r.route, r]));
    for (const r of ro) {
      const started = typeof r.step_started_at === 'string' ? Date.parse(r.step_started_at) : NaN;
      if (!Number.isFinite(started)) continue;
      const ms = Math.max(1, Date.now() - started);
      const one = ((await get(`/diffs?limit=20&route=${encodeURIComponent(r.route)}&since=${ms}ms`)).body as { routes?: RouteReport[] }).routes?.[0];
      if (one) byRoute.set(r.route, one);
    }
    return [...byRoute.values()];
  }

  admin.route('GET', '/ui/login', () => html(200, loginPage()));

  admin.route('POST', '/ui/login', (req, _url, body) => {
    if (!auth.sameOrigin(req)) return html(403, loginPage('Refused: the login form was posted from another site.'));
    const token = new URLSearchParams(body).get('token') ?? '';
    if (!auth.checkToken(token)) return html(401, loginPage(auth.enabled ? 'Wrong token.' : 'The console needs admin.token in the gateway config.'));
    return redirect('/ui', { 'set-cookie': auth.setCookie(auth.newSession()) });
  });

  admin.route('POST', '/ui/logout', (req, _url, body) => {
    if (!auth.canWrite(req, new URLSearchParams(body).get('csrf') ?? undefined)) return html(403, loginPage('Refused: not a request of this console.'));
    return redirect('/ui/login', { 'set-cookie': auth.clearCookie() });
  });

  admin.route('GET', '/ui', async (req, url) => {
    if (!auth.canRead(req)) return refuse(req);
    const ro = await rollouts();
    const windows = ro.length ? [...WINDOWS, { key: 'step', label: 'since the current step' }] : WINDOWS;
    const asked = url.searchParams.get('window') ?? '1h';
    const window = windows.some((w) => w.key === asked) ? asked : '1h';
    const [routes, metrics, report] = await Promise.all([get('/routes'), get('/metrics'), diffs(window, ro)]);
    const r = routes.status === 200 ? (routes.body as { version: number | null; routes: ConfiguredRoute[] }) : { version: null, routes: [] };
    const session = auth.session(req);
    return html(
      200,
      renderOverview({
        version: r.version,
        window,
        windows,
        routes: r.routes,
        placements: parsePlacements(typeof metrics.body === 'string' ? metrics.body : ''),
        diffs: report,
        rollouts: ro,
        csrf: session ? auth.csrfFor(session) : '',
      }),
    );
  });

  // The JSON behind the page's live numbers.
  admin.route('GET', '/ui/api/diffs', async (req, url) => {
    if (!auth.canRead(req)) return { status: 401, body: { error: 'log in to the console or send the admin token' } };
    const window = url.searchParams.get('window') ?? '1h';
    return { status: 200, body: { routes: await diffs(window, window === 'step' ? await rollouts() : []) }, headers: { 'cache-control': 'no-store' } };
  });

  admin.route('GET', '/ui/samples', async (req, url) => {
    if (!auth.canRead(req)) return refuse(req);
    const route = url.searchParams.get('route') ?? '';
    const field = url.searchParams.get('field') ?? '';
    const limit = Math.min(20, Math.max(1, Number(url.searchParams.get('limit') ?? 3) || 3));
    try {
      const samples = await readSamples(config, { route: route || undefined, field: field || undefined, limit });
      return html(200, renderSamples(route, field, samples, sampleSource(config)));
    } catch (err) {
      return html(503, renderSamples(route, field, [], `${sampleSource(config)} (unreadable: ${(err as Error).message})`));
    }
  });

  // Rollout actions from the page's forms, passed on to POST /rollouts/ROUTE/ACTION as the admin.
  admin.route('POST', '/ui/rollouts', async (req, _url, body) => {
    const form = new URLSearchParams(body);
    if (!auth.canWrite(req, form.get('csrf') ?? undefined)) return html(403, loginPage('Refused: not a request of this console (cross-site, or no valid session and CSRF token).'));
    const route = form.get('route') ?? '';
    const action = form.get('action') ?? '';
    if (!route || !ACTIONS.has(action)) return { status: 400, body: { error: 'expected route and action (pause, resume, promote, abort)' } };
    const reply = await admin.dispatch({
      method: 'POST',
      url: `/rollouts/${encodeURIComponent(route)}/${action}`,
      headers: { authorization: `Bearer ${config.admin.token}`, 'x-switchyard-author': 'console' },
      body: '',
    });
    return reply.status < 300 ? redirect('/ui') : { ...reply, headers: PAGE_HEADERS };
  });
}
