/** Addresses and CIDRs in config files (`trusted_proxies` of gateway.yaml and products.yaml). */
import { isIP } from 'node:net';
import { refine, reject, string } from './schema.js';

/** Why `s` is not an address or CIDR, or undefined. */
export function checkCidr(s: string): string | undefined {
  const [addr, bits, extra] = s.split('/');
  const v = isIP(addr ?? '');
  if (v === 0 || extra !== undefined) return `${JSON.stringify(s)} is not an IP address or CIDR (such as 10.0.0.0/8)`;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (v === 6 ? 128 : 32))) return `${JSON.stringify(s)}: the prefix length is 0 to ${v === 6 ? 128 : 32}`;
  return undefined;
}

/** The schema check of one address or CIDR. */
export const cidr = refine(string(), (v, node, ctx, path) => {
  const problem = checkCidr(v);
  return problem ? reject(ctx, node, path, problem) : v;
});
