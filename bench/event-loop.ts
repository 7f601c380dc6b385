/**
 * Event-loop delay during a load phase, for the three processes that matter: this one (the gateway, and
 * also every caller of the load), Baton's worker (from its own Prometheus metrics) and the engine floor's
 * worker (over IPC). All three use Node's `monitorEventLoopDelay` with a 10 ms timer: that is what
 * prom-client (collectDefaultMetrics' default precision) runs in Baton's worker, which the bench does not
 * change, so the same resolution everywhere keeps the figures comparable.
 *
 * The histogram records the time between two firings of a repeating 10 ms timer, so an idle loop reads
 * about 10 ms. The figures reported here are that minus 10 ms: how late the timer fired, i.e. how long the
 * loop was busy when it was due. The raw values are kept in the JSON too.
 */
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { sample, scrapeMetrics } from '../test/support/metrics.ts';
import type { EventLoopHistogram } from './engine-floor/ipc.ts';

export const EVENT_LOOP_RESOLUTION_MS = 10;

export interface EventLoopDelay {
  /** Lateness of the timer (recorded interval − resolution), ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The recorded intervals themselves, ms (what monitorEventLoopDelay and prom-client report). */
  raw: { p50Ms: number; p99Ms: number; maxMs: number; meanMs: number };
  /** Number of timer firings recorded (not known for prom-client's histogram). */
  count: number | null;
  resolutionMs: number;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function fromRaw(raw: EventLoopDelay['raw'], count: number | null): EventLoopDelay {
  const late = (ms: number) => round(Math.max(0, ms - EVENT_LOOP_RESOLUTION_MS));
  return {
    p50Ms: late(raw.p50Ms),
    p99Ms: late(raw.p99Ms),
    maxMs: late(raw.maxMs),
    raw: { p50Ms: round(raw.p50Ms), p99Ms: round(raw.p99Ms), maxMs: round(raw.maxMs), meanMs: round(raw.meanMs) },
    count,
    resolutionMs: EVENT_LOOP_RESOLUTION_MS,
  };
}

export function fromHistogram(histogram: EventLoopHistogram): EventLoopDelay {
  return fromRaw({ p50Ms: histogram.p50Ns / 1e6, p99Ms: histogram.p99Ns / 1e6, maxMs: histogram.maxNs / 1e6, meanMs: histogram.meanNs / 1e6 }, histogram.count);
}

/** This process's event loop, from `start()` to `stop()`. */
export class LocalEventLoop {
  readonly #histogram: ELDHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });

  start(): this {
    this.#histogram.reset();
    this.#histogram.enable();
    return this;
  }

  stop(): EventLoopDelay {
    const h = this.#histogram;
    h.disable();
    return fromHistogram({ count: h.count, p50Ns: h.percentile(50), p99Ns: h.percentile(99), maxNs: h.max, meanNs: h.mean });
  }
}

/**
 * Baton's worker's event loop between two scrapes of its /metrics: prom-client restarts its histogram at
 * every scrape, so `start()` scrapes once to begin a window and `stop()` reads the window. Nothing else
 * scrapes the worker during the bench.
 */
export class ScrapedEventLoop {
  readonly #url: string;

  constructor(metricsUrl: string) {
    this.#url = metricsUrl;
  }

  async start(): Promise<this> {
    await this.#scrape();
    return this;
  }

  async stop(): Promise<EventLoopDelay> {
    const text = await this.#scrape();
    const seconds = (name: string) => sample(text, `baton_nodejs_eventloop_lag_${name}_seconds`) * 1000;
    return fromRaw({ p50Ms: seconds('p50'), p99Ms: seconds('p99'), maxMs: seconds('max'), meanMs: seconds('mean') }, null);
  }

  async #scrape(): Promise<string> {
    const { status, text } = await scrapeMetrics(this.#url);
    if (status !== 200) throw new Error(`the worker's metrics answered ${status}`);
    return text;
  }
}

/** The worker's resident set size, from its metrics (prom-client reads /proc/self/status). */
export async function workerRssBytes(metricsUrl: string): Promise<number> {
  const { status, text } = await scrapeMetrics(metricsUrl);
  if (status !== 200) throw new Error(`the worker's metrics answered ${status}`);
  const rss = sample(text, 'baton_process_resident_memory_bytes');
  if (!rss) throw new Error("the worker's metrics have no baton_process_resident_memory_bytes");
  return rss;
}
