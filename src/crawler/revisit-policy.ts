/**
 * How often a page is visited again (as Nutch's adaptive fetch schedule does): a page that changed since the last
 * visit comes back twice as soon, one that did not half again as late, always within [minInterval, maxInterval].
 * "Changed" is a change in the set of links and images the page shows, not in its bytes: a date or a counter in
 * the markup changes nothing a crawl cares about.
 */
import { createHash } from 'node:crypto';

export interface RefreshPolicy {
  minIntervalS: number;
  maxIntervalS: number;
  /** Share of a run's page budget that revisits may take while new pages wait. */
  share: number;
  /** Revisit known image URLs (conditional GET) on the pages revisited. */
  images: boolean;
}

export const SHRINK = 0.5;
export const GROW = 1.5;

const clamp = (policy: RefreshPolicy, seconds: number) => Math.round(Math.min(policy.maxIntervalS, Math.max(policy.minIntervalS, seconds)));

/** A new page starts halfway (on a log scale) between the bounds, so it can move either way. */
export function firstInterval(policy: RefreshPolicy): number {
  return clamp(policy, Math.sqrt(policy.minIntervalS * policy.maxIntervalS));
}

export function nextInterval(policy: RefreshPolicy, interval: number, changed: boolean): number {
  return clamp(policy, interval * (changed ? SHRINK : GROW));
}

/**
 * With revisits on, sitemaps are read again (their new pages and <lastmod> are news too): every maxInterval / 7,
 * once a day with the defaults, and never more often than minInterval. Re-reading them every hour would cost more
 * requests than all the page revisits of a settled site.
 */
export function sitemapInterval(refresh: RefreshPolicy): number {
  return Math.max(refresh.minIntervalS, Math.round(refresh.maxIntervalS / 7));
}

/** 16 hex digits over the sorted, distinct links and images. */
export function pageHash(links: string[], images: string[]): string {
  const text = `${[...new Set(links)].sort().join('\n')}\n\n${[...new Set(images)].sort().join('\n')}`;
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}
