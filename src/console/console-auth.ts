/**
 * Who may read the console and who may act from it. A person logs in with the admin token; the
 * cookie holds an expiry and an HMAC keyed by the token, never the token itself (a stolen cookie
 * expires, and rotating admin.token ends every session). A bearer token works too, for scripts.
 * Writes made with the cookie must also come from the console's own origin (Sec-Fetch-Site,
 * Origin) and carry a CSRF token derived from the session: SameSite=Strict alone leaves
 * same-site, other-port pages (127.0.0.1:OTHER) able to post.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AdminRequest } from '../admin/admin-server.js';

export const SESSION_COOKIE = 'switchyard_console';
/** How long a login lasts. */
export const SESSION_MS = 12 * 3600_000;

function same(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function header(req: Pick<AdminRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class ConsoleAuth {
  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** False when admin.token is empty: the console then refuses everyone. */
  get enabled(): boolean {
    return this.token !== '';
  }

  private mac(purpose: string): string {
    return createHmac('sha256', this.token).update(purpose).digest('base64url');
  }

  checkToken(given: string): boolean {
    return this.enabled && same(given, this.token);
  }

  /** A new session cookie value: `EXPIRY.HMAC`. */
  newSession(): string {
    const exp = this.now() + SESSION_MS;
    return `${exp}.${this.mac(`session:${exp}`)}`;
  }

  setCookie(value: string): string {
    return `${SESSION_COOKIE}=${value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}`;
  }

  clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  /** The session cookie of the request when it is valid and not expired. */
  session(req: Pick<AdminRequest, 'headers'>): string | undefined {
    if (!this.enabled) return undefined;
    const cookies = header(req, 'cookie') ?? '';
    const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(cookies);
    if (!m) return undefined;
    const [exp, mac] = m[1]!.split('.');
    if (!exp || !mac || !/^\d+$/.test(exp) || Number(exp) < this.now()) return undefined;
    return same(mac, this.mac(`session:${exp}`)) ? m[1] : undefined;
  }

  bearer(req: Pick<AdminRequest, 'headers'>): boolean {
    const auth = header(req, 'authorization');
    return !!auth?.startsWith('Bearer ') && this.checkToken(auth.slice(7));
  }

  /** Read access: a valid session cookie or the bearer token. */
  canRead(req: Pick<AdminRequest, 'headers'>): boolean {
    return this.bearer(req) || this.session(req) !== undefined;
  }

  /** The CSRF token of a session, embedded in the console's forms. */
  csrfFor(session: string): string {
    return this.mac(`csrf:${session}`);
  }

  /** Not sent by a page of another origin: Sec-Fetch-Site and Origin, when present, say so. */
  sameOrigin(req: Pick<AdminRequest, 'headers'>): boolean {
    const site = header(req, 'sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    const origin = header(req, 'origin');
    if (origin === undefined) return true;
    const host = header(req, 'host');
    return !!host && (origin === `http://${host}` || origin === `https://${host}`);
  }

  /** Write access: the bearer token (not sent by browsers on their own), or a session plus same origin plus CSRF token. */
  canWrite(req: Pick<AdminRequest, 'headers'>, csrf: string | undefined): boolean {
    if (this.bearer(req)) return this.sameOrigin(req);
    const s = this.session(req);
    return !!s && this.sameOrigin(req) && csrf !== undefined && same(csrf, this.csrfFor(s));
  }
}
