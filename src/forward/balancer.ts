/**
 * Picking the host of a backend for one attempt, as pure functions of the hosts' state. Both
 * skip the hosts in `skip` (a bit per host index: those already tried by this request) and,
 * unless `panic`, the hosts that are not available (unhealthy or ejected). The caller asks again
 * with `panic` when nothing is available: as Envoy's panic mode, a backend with no healthy host
 * still gets its traffic spread over every host rather than none, since health can be wrong.
 * Both return -1 when no host qualifies. Nothing here allocates: this runs per request.
 */

/** What picking reads of a host. */
export interface HostView {
  /** Healthy (active checks) and not ejected (outlier detection). */
  readonly available: boolean;
  /** Requests in flight on this host. */
  readonly active: number;
}

function eligible(h: HostView, i: number, skip: number, panic: boolean): boolean {
  return (skip & (1 << i)) === 0 && (panic || h.available);
}

/** The first eligible host from `start` on, wrapping around; the caller advances `start`. */
export function pickRoundRobin(hosts: readonly HostView[], start: number, skip = 0, panic = false): number {
  const n = hosts.length;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    if (eligible(hosts[i]!, i, skip, panic)) return i;
  }
  return -1;
}

/** The index of the `nth` eligible host (0-based). */
function nthEligible(hosts: readonly HostView[], nth: number, skip: number, panic: boolean): number {
  for (let i = 0; i < hosts.length; i++) {
    if (eligible(hosts[i]!, i, skip, panic) && nth-- === 0) return i;
  }
  return -1;
}

/**
 * Power of two choices, as Envoy's least_request: two distinct eligible hosts at random, the one
 * with fewer requests in flight wins (the first drawn on a tie). Close to "least loaded" without
 * herding every request onto the same momentarily idle host.
 */
export function pickLeastRequest(hosts: readonly HostView[], random: () => number = Math.random, skip = 0, panic = false): number {
  let n = 0;
  for (let i = 0; i < hosts.length; i++) if (eligible(hosts[i]!, i, skip, panic)) n++;
  if (n <= 1) return n === 1 ? nthEligible(hosts, 0, skip, panic) : -1;
  const first = Math.floor(random() * n);
  let second = Math.floor(random() * (n - 1));
  if (second >= first) second++;
  const a = nthEligible(hosts, first, skip, panic);
  const b = nthEligible(hosts, second, skip, panic);
  return hosts[b]!.active < hosts[a]!.active ? b : a;
}
