/**
 * Bytes of one request on its connection (request line, headers and body, like nginx's
 * $request_length): what the socket read since the previous exchange on it ended. Every
 * exchange on a connection must call it once, at its end, so that the next one counts from there.
 */
import type { Duplex } from 'node:stream';

const LAST_READ = Symbol('bytes read at the end of the previous exchange');

type Counted = Duplex & { bytesRead?: number; [LAST_READ]?: number };

export function bytesInOf(socket: Duplex): number {
  const s = socket as Counted;
  const total = s.bytesRead ?? 0;
  const n = total - (s[LAST_READ] ?? 0);
  s[LAST_READ] = total;
  return n;
}
