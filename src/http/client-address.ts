/**
 * The client's address behind trusted proxies (`trusted_proxies` in products.yaml): the same rule
 * as nginx's realip module with `real_ip_header X-Forwarded-For` and `real_ip_recursive on`, so
 * that `ip`-keyed rate limits and logs see the same client on both implementations. When the
 * peer is trusted, X-Forwarded-For is walked from the right, skipping trusted addresses; the
 * first untrusted one is the client (the leftmost when all are trusted). A malformed entry
 * stops the walk: the address found before it is the client, or the peer when none was. The
 * details (entries with ports or leading zeros, empty entries, one header sent on several lines)
 * follow nginx's ngx_http_get_forwarded_addr, where the differential fuzz found them.
 */
import { BlockList, isIP } from 'node:net';

export type TrustedProxies = BlockList | undefined;

/** A BlockList of the CIDRs (already validated), or undefined for none. */
export function compileTrustedProxies(cidrs: readonly string[]): TrustedProxies {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/') as [string, string | undefined];
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(addr, bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits), family);
  }
  return list;
}

/** Whether `addr` is one of the trusted proxies. */
export function isTrusted(list: TrustedProxies, addr: string): boolean {
  if (!list) return false;
  const v = isIP(addr);
  return v !== 0 && list.check(addr, v === 6 ? 'ipv6' : 'ipv4');
}

/** nginx's ngx_inet_addr: digits and exactly three dots, each octet at most 255 ("010" is 10, "" is 0). */
function ipv4(text: string): string | undefined {
  const octets = text.split('.');
  if (octets.length !== 4 || !/^[\d.]+$/.test(text)) return undefined;
  const values = octets.map((o) => (o === '' ? 0 : Number(o)));
  if (values.some((v) => v > 255) || values.every((v) => v === 255)) return undefined; // INADDR_NONE
  return values.join('.');
}

/** nginx's ngx_inet6_ntop: RFC 5952 text, with an IPv4-mapped or -compatible tail in dotted form. */
function ipv6(text: string): string | undefined {
  if (isIP(text) !== 6 || text.includes('%')) return undefined;
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const tail = /^::(ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!tail) return canonical;
  const hi = Number.parseInt(tail[2]!, 16);
  const lo = Number.parseInt(tail[3]!, 16);
  return `::${tail[1] ?? ''}${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * One X-Forwarded-For entry as nginx's realip module reads it (ngx_parse_addr_port): an IPv4 or
 * IPv6 address, optionally with a port ("1.2.3.4:80", "[::1]:80"), in nginx's text form; undefined
 * when malformed. The differential fuzz found "010.0.0.1" and "1.2.3.4:80" read differently.
 */
function forwardedHop(hop: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hop);
  const port = bracketed ? bracketed[2] : /^[\d.]*:(\d+)$/.exec(hop)?.[1];
  if (port !== undefined && (port === '' || Number(port) > 65535)) return undefined;
  if (bracketed) return bracketed[2] === undefined ? undefined : ipv6(bracketed[1]!);
  const address = port === undefined ? hop : hop.slice(0, hop.lastIndexOf(':'));
  return address.includes(':') ? ipv6(address) : ipv4(address);
}

type Walk = { rc: 'found' | 'all-trusted' | 'declined'; addr: string };

/**
 * One X-Forwarded-For line, walked from the right as nginx's ngx_http_get_forwarded_addr_internal
 * does: separators (commas and spaces) between entries are skipped together, so "a, , b" is two
 * entries; the walk stops at the first untrusted address, or at a malformed entry (keeping what
 * it found before it).
 */
function walkLine(line: string, addr: string, list: BlockList): Walk {
  let found = false;
  let end = line.length;
  for (;;) {
    if (!isTrusted(list, addr)) return { rc: found ? 'found' : 'declined', addr };
    while (end > 1 && (line[end - 1] === ' ' || line[end - 1] === ',')) end--;
    let start = end - 1;
    while (start > 0 && line[start] !== ' ' && line[start] !== ',') start--;
    if (start > 0) start++;
    const hop = forwardedHop(line.slice(Math.max(start, 0), end));
    if (hop === undefined) return { rc: found ? 'found' : 'declined', addr };
    addr = hop;
    found = true;
    end = start - 1;
    if (start <= 0) return { rc: 'all-trusted', addr };
  }
}

/**
 * The client address: `xff` is the X-Forwarded-For value, or its lines as sent. Lines are walked
 * from the last, as nginx walks them: a line that yields no address ends the walk with the peer,
 * unless an earlier (later-sent) line already found one.
 */
export function clientAddress(peer: string, xff: string | readonly string[] | undefined, list: TrustedProxies): string {
  if (!list || xff === undefined || !isTrusted(list, peer)) return peer;
  const lines = typeof xff === 'string' ? [xff] : xff;
  let addr = peer;
  let found = false;
  for (let i = lines.length - 1; i >= 0; i--) {
    const walk = walkLine(lines[i]!, addr, list);
    if (walk.rc === 'declined') return found ? addr : peer;
    addr = walk.addr;
    if (walk.rc === 'found') return addr;
    found = true;
  }
  return addr;
}
