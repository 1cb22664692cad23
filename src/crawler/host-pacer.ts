/**
 * Politeness per host (host:port): requests to one host start at least `max(hostDelayMs, Crawl-delay)` apart, and a
 * host that answered 429 or 503 gets no request until its `Retry-After` has passed. A wait that would end after
 * the run's last moment for requests is not made: the caller gets a deferral and leaves the work for a later run.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface HostPacerOptions {
  /** Minimum gap between the starts of two requests to one host, ms. */
  hostDelayMs: number;
  /** A robots.txt `Crawl-delay` above this is cut down to it, ms. */
  maxCrawlDelayMs: number;
  /** Epoch ms after which no wait may end (the run's hard stop); none when absent. */
  stopAt?: number;
}

/** Clear to send now, or not in this run: the host is free again in `retryAfterMs`. */
export type Turn = { ok: true } | { ok: false; retryAfterMs: number };

interface HostClock {
  /** When the last request was (or is booked to be) started. */
  lastStart: number;
  crawlDelayMs: number;
  pausedUntil: number;
}

export class HostPacer {
  private readonly hosts = new Map<string, HostClock>();

  constructor(private readonly options: HostPacerOptions) {}

  /** The `Crawl-delay` robots.txt gives this host, in seconds (capped). */
  setCrawlDelay(url: string, seconds: number | undefined): void {
    const ms = Number.isFinite(seconds) && seconds! > 0 ? seconds! * 1000 : 0;
    this.clock(url).crawlDelayMs = Math.min(ms, this.options.maxCrawlDelayMs);
  }

  /** No request to this host before `ms` from now (Retry-After, or a backoff after 429/503). */
  pause(url: string, ms: number): void {
    const clock = this.clock(url);
    clock.pausedUntil = Math.max(clock.pausedUntil, Date.now() + ms);
  }

  /**
   * Waits until this host may get a request and records the start. Call it right before the request, holding the
   * fetch slot, so the recorded start is when the request goes out. A waiter looks again when it wakes: a 429 that
   * came meanwhile, or another waiter that went first, sends it back to sleep.
   */
  async turn(url: string, signal: AbortSignal): Promise<Turn> {
    const clock = this.clock(url);
    for (;;) {
      const now = Date.now();
      const at = Math.max(now, clock.pausedUntil, clock.lastStart + Math.max(this.options.hostDelayMs, clock.crawlDelayMs));
      if (at <= now) {
        clock.lastStart = now;
        return { ok: true };
      }
      if (this.options.stopAt !== undefined && at > this.options.stopAt) return { ok: false, retryAfterMs: at - now };
      await sleep(at - now, undefined, { signal });
    }
  }

  private clock(url: string): HostClock {
    const host = new URL(url).host;
    let clock = this.hosts.get(host);
    if (!clock) {
      clock = { lastStart: -Infinity, crawlDelayMs: 0, pausedUntil: 0 };
      this.hosts.set(host, clock);
    }
    return clock;
  }
}

/** `Retry-After` as delta-seconds or an HTTP-date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
