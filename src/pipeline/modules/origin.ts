/** Origin forward: names the upstream every request goes to when no module answered. */
import { defineModule, type Peer } from '../module.js';

export const origin = defineModule<Peer>({
  name: 'origin',
  failure: 'closed',
  configure: (p) => ({ origin: p.origin.url, connectTimeoutMs: p.origin.connectTimeoutMs, readTimeoutMs: p.origin.readTimeoutMs }),
  peer: (c) => c,
});
