/**
 * robots.txt, fetched once per host per run. A 4xx answer allows everything; a 5xx or 429 answer, or no answer at
 * all (a timeout, a reset, DNS), means the host is unavailable (RFC 9309 §2.3.1.3–4: disallow for now), so its
 * pages wait for a later run. Its `Crawl-delay` paces the fetcher's requests to the host, and its `Sitemap:` lines
 * seed the crawl (sitemaps.ts).
 */
import robotsParser from 'robots-parser';
import type { Fetcher } from './fetcher';

export type RobotsVerdict = 'allowed' | 'disallowed' | 'unavailable';

const MAX_ROBOTS_BYTES = 512 * 1024;

export class RobotsRules {
  private readonly byOrigin = new Map<string, Promise<ReturnType<typeof robotsParser> | 'unavailable' | null>>();

  constructor(
    private readonly fetcher: Fetcher,
    private readonly userAgent: string,
  ) {}

  async verdict(url: string): Promise<RobotsVerdict> {
    const robots = await this.rules(url);
    if (robots === 'unavailable') return 'unavailable';
    if (robots === null) return 'allowed';
    return robots.isDisallowed(url, this.userAgent) ? 'disallowed' : 'allowed';
  }

  /** The `Sitemap:` URLs of the host of `url`, as written. */
  async sitemaps(url: string): Promise<string[] | 'unavailable'> {
    const robots = await this.rules(url);
    if (robots === 'unavailable') return 'unavailable';
    return robots ? robots.getSitemaps() : [];
  }

  private rules(url: string) {
    const origin = new URL(url).origin;
    let rules = this.byOrigin.get(origin);
    if (!rules) {
      rules = this.load(origin);
      this.byOrigin.set(origin, rules);
    }
    return rules;
  }

  private async load(origin: string) {
    const robotsUrl = `${origin}/robots.txt`;
    const res = await this.fetcher.get(robotsUrl, { maxBytes: MAX_ROBOTS_BYTES, accept: 'text/plain' });
    if (res.ok) {
      const robots = robotsParser(robotsUrl, res.body.toString('utf8'));
      this.fetcher.pacer.setCrawlDelay(robotsUrl, robots.getCrawlDelay(this.userAgent));
      return robots;
    }
    if (res.transient) return 'unavailable' as const;
    return null;
  }
}
