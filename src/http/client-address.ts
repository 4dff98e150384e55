/**
 * The client's address behind trusted proxies (`trusted_proxies` in products.yaml): the same rule
 * as nginx's realip module with `real_ip_header X-Forwarded-For` and `real_ip_recursive on`, so
 * that `ip`-keyed rate limits and logs see the same client on both implementations. When the
 * peer is trusted, X-Forwarded-For is walked from the right, skipping trusted addresses; the
 * first untrusted one is the client (the leftmost when all are trusted). A malformed entry
 * stops the walk and the peer's address stays, as nginx declines then.
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

export function clientAddress(peer: string, xff: string | undefined, list: TrustedProxies): string {
  if (!list || !xff || !isTrusted(list, peer)) return peer;
  const hops = xff.split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!isTrusted(list, hop)) return hop;
  }
  return client;
}
