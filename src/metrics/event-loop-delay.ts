/**
 * The event loop's delay between two scrapes, for `switchyard_event_loop_delay_seconds`
 * (issue 14: no shadow comparison may block the loop for more than 5 ms). prom-client's
 * nodejs_eventloop_lag_* cover the whole life of the process at a 10 ms resolution; this one
 * samples every 2 ms and starts over at each scrape, so that a scrape before and after a load
 * test gives the delay during it. Meant for one scraper: with several, each sees the window
 * since the previous scrape of any of them. The sampler starts at the first scrape.
 *
 * monitorEventLoopDelay's histogram holds the interval between two runs of its timer, not how
 * late the timer ran: an idle loop reads about 2.1 ms at p99 with a 2 ms resolution (measured on
 * Node 24; nodejs/node#62935 calls it "an implicit floor of resolution ms"). The delay is what
 * the interval exceeds the resolution by, so the gauge reads 0 on an idle loop, not 2 ms.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 2;
let histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;

/** How late a timer due every `resolutionMs` ran, from the interval measured between two runs (ns → s). */
export function delaySeconds(intervalNs: number, resolutionMs = RESOLUTION_MS): number {
  return Math.max(0, intervalNs / 1e9 - resolutionMs / 1e3);
}

/** p99 and max of the delay since the previous call, in seconds (0 on the first call). */
export function takeEventLoopDelay(): { p99: number; max: number } {
  if (!histogram) {
    histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    histogram.enable();
    return { p99: 0, max: 0 };
  }
  // Nanoseconds; an empty window (no sample yet) reads as 0.
  const out = histogram.count ? { p99: delaySeconds(histogram.percentile(99)), max: delaySeconds(histogram.max) } : { p99: 0, max: 0 };
  histogram.reset();
  return out;
}
