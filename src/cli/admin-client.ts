/**
 * The CLI's client of a gateway's admin listener. Failures are one line that says what to
 * check, never a stack trace: the listener is not there, or it answered with an error (a 401
 * carries the admin listener's own advice: send the token, or configure one).
 */
import { request } from 'undici';
import { parseJsonExact } from '../diff/exact-json.js';

export class AdminRequestError extends Error {
  readonly exitCode = 1;
}

/** GET `url` with `Authorization: Bearer <token>` (when a token is given); the parsed JSON body. */
export async function adminGet(url: URL, token: string): Promise<unknown> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ECONNREFUSED' ? 'connection refused' : (err as Error).message;
    throw new AdminRequestError(
      `cannot reach the admin listener at ${url.origin} (${why}): is the gateway running? check --admin, or admin.listen in the config`,
    );
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    let message = text.trim();
    try {
      const b = JSON.parse(text) as { message?: string; error?: string };
      message = b.message ?? b.error ?? message;
    } catch {
      // not JSON: the text as it is
    }
    const hint =
      res.statusCode === 401
        ? ` (${token ? 'the token sent was refused' : 'no token was sent'}: check --token, SWITCHYARD_ADMIN_TOKEN or admin.token in the config)`
        : '';
    throw new AdminRequestError(`GET ${url.pathname} on ${url.origin} answered ${res.statusCode}: ${message}${hint}`);
  }
  // /diffs answers hold bodies' keys, which JSON.parse can get wrong on Node 24 (see exact-json.ts).
  return parseJsonExact(text);
}
