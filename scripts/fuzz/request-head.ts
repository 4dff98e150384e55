/**
 * A generated request read back from its bytes, for the classifiers of known differences: the
 * request line's parts, every header line as sent (names as sent, values without surrounding
 * whitespace), and what follows the head.
 */

export interface RequestHead {
  method: string;
  target: string;
  /** "" for a request line without a version. */
  version: string;
  /** Each line after the request line, as sent. */
  lines: string[];
  /** The lines that have a colon: [name as sent, trimmed value]. */
  headers: [string, string][];
  /** Some line of the head ends in a bare LF. */
  bareLf: boolean;
  /** What follows the head, as Latin-1. */
  body: string;
}

export function readHead(raw: Buffer): RequestHead {
  const text = raw.toString('latin1').replace(/^(\r\n)+/, '');
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf : lf;
  const sep = end === crlf ? 4 : 2;
  const head = end === -1 ? text : text.slice(0, end);
  const all = head.split(/\r?\n/);
  const [method = '', target = '', version = ''] = (all[0] ?? '').split(' ').filter((p, i) => i === 0 || p !== '');
  const lines = all.slice(1);
  const headers = lines.flatMap((l): [string, string][] => {
    const colon = l.indexOf(':');
    return colon === -1 ? [] : [[l.slice(0, colon), l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')]];
  });
  const whole = end === -1 ? text : text.slice(0, end + sep);
  return { method, target, version, lines, headers, bareLf: /(^|[^\r])\n/.test(whole), body: end === -1 ? '' : text.slice(end + sep) };
}

/** The trimmed values of a header (case-insensitive name), in order. */
export function values(head: RequestHead, name: string): string[] {
  return head.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}
