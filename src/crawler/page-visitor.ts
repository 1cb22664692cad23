/**
 * Visits one page: robots check, fetch, links into the frontier, images onto the NAS. It returns what the page
 * changed (journal lines and manifest lines) for the run to commit in one go; one bad link or image never
 * aborts the page.
 */
import type { Logger } from '../log';
import type { Fetcher } from './fetcher';
import { extractRefs } from './extract';
import type { FrontierItem } from './frontier';
import { storeImage } from '../collection/image-store';
import type { ManifestLine } from '../collection/manifest';
import type { CrawlConfig } from './payload';
import type { RobotsRules } from './robots';
import { inScope } from './scope';
import type { CrawlState } from './state';

export type PageOutcome =
  | { kind: 'done'; journal: string[]; manifest: ManifestLine[]; errors: string[]; imagesSaved: number }
  /** Not visited now (robots.txt unavailable, or the run is stopping): the page stays in the frontier. */
  | { kind: 'postponed' };

const HTML_TYPES = /^(text\/html|application\/xhtml\+xml)\b/i;
const ROBOTS_UNAVAILABLE = "its host's robots.txt is unavailable";

export class PageVisitor {
  private readonly seed: URL;
  /** Image URLs being fetched by some page of this run, so two pages never fetch the same one at once. */
  private readonly imagesInFlight = new Set<string>();

  constructor(
    private readonly config: CrawlConfig,
    private readonly state: CrawlState,
    private readonly fetcher: Fetcher,
    private readonly robots: RobotsRules | null,
    private readonly signal: AbortSignal,
    private readonly logger: Logger,
  ) {
    this.seed = new URL(config.url);
  }

  async visit(item: FrontierItem): Promise<PageOutcome> {
    const { url } = item;
    const done = (journal: string[], errors: string[] = []): PageOutcome => ({ kind: 'done', journal, manifest: [], errors, imagesSaved: 0 });
    // With debug, every page gets a line, whatever became of it; a failed page is logged as a warning anyway.
    const excluded = (reason: string) => {
      if (this.config.debug) this.logger.info('page excluded', { url, depth: item.depth, reason });
      return done([this.state.excluded(url, reason)]);
    };
    const postponed = (reason: string): PageOutcome => {
      if (this.config.debug) this.logger.info('page postponed', { url, depth: item.depth, reason });
      return { kind: 'postponed' };
    };

    const verdict = this.robots ? await this.robots.verdict(url) : 'allowed';
    if (verdict === 'unavailable') return postponed('robots.txt unavailable');
    if (this.signal.aborted) return postponed('run stopping');
    if (verdict === 'disallowed') return excluded('disallowed by robots.txt');

    const started = Date.now();
    // A redirect into a host whose robots.txt is unavailable waits for a later run, as a page of that host would.
    let hopHostUnavailable = false;
    const res = await this.fetcher.get(url, {
      maxBytes: this.config.maxPageBytes,
      accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.5',
      checkHop: async (hop) => {
        const refusal = await this.refuseHop(hop);
        if (refusal === ROBOTS_UNAVAILABLE) hopHostUnavailable = true;
        return refusal;
      },
    });
    if (this.signal.aborted) return postponed('run stopping');
    if (hopHostUnavailable) return postponed('robots.txt of the redirect target unavailable');
    if (!res.ok) {
      this.logger.warn('page failed', { url, reason: res.reason });
      return done([this.state.failedPage(url, res.reason)], [`${url}: ${res.reason}`]);
    }
    if (!HTML_TYPES.test(res.contentType)) return excluded(`not HTML (${res.contentType || 'no Content-Type'})`);

    const pageUrl = res.url;
    // Redirected: the target is visited under its own name too, and only once.
    if (pageUrl !== url && this.state.history.has(pageUrl)) return excluded(`redirects to ${pageUrl}, already visited`);
    const refs = extractRefs(res.body, pageUrl, { nofollow: this.config.respectRobots });
    const images = await Promise.all(refs.images.map((src) => this.fetchImage(src, pageUrl)));
    if (this.signal.aborted) return postponed('run stopping');

    const journal: string[] = pageUrl !== url ? [this.state.visited(pageUrl)] : [];

    const manifest: ManifestLine[] = [];
    const errors: string[] = [];
    let imagesSaved = 0;
    for (const image of images) {
      if (!image) continue;
      journal.push(...image.journal);
      if (image.line) manifest.push(image.line);
      if (image.error) errors.push(image.error);
      if (image.saved) imagesSaved++;
    }
    journal.push(...this.pushLinks(refs.links, item.depth + 1));
    journal.push(this.state.visited(url));
    if (this.config.debug) {
      this.logger.info('page crawled', { url, finalUrl: pageUrl, depth: item.depth, links: refs.links.length, images: refs.images.length, imagesSaved, ms: Date.now() - started });
    }
    return { kind: 'done', journal, manifest, errors, imagesSaved };
  }

  /** A redirect target passes the same checks as a link: scope, then its host's robots.txt. */
  private async refuseHop(hop: URL): Promise<string | null> {
    if (!inScope(hop, this.seed, this.config.scope)) return `outside the "${this.config.scope}" scope`;
    const verdict = this.robots ? await this.robots.verdict(hop.href) : 'allowed';
    if (verdict === 'disallowed') return 'disallowed by robots.txt';
    if (verdict === 'unavailable') return ROBOTS_UNAVAILABLE;
    return null;
  }

  /** In dfs, pushed in reverse document order so the page's first link is on top: the order of a recursive DFS. */
  private pushLinks(links: string[], depth: number): string[] {
    if (this.config.maxDepth !== undefined && depth > this.config.maxDepth) return [];
    const lines: string[] = [];
    for (const link of this.config.order === 'dfs' ? [...links].reverse() : links) {
      if (!inScope(new URL(link), this.seed, this.config.scope)) continue;
      const line = this.state.push(link, depth, this.config.order);
      if (line) lines.push(line);
    }
    return lines;
  }

  private async fetchImage(src: string, page: string) {
    if (this.state.imageUrls.has(src) || this.imagesInFlight.has(src)) return null;
    this.imagesInFlight.add(src);
    try {
      const res = await this.fetcher.get(src, { maxBytes: this.config.maxImageBytes, minBytes: this.config.cutoffSize * 1024, accept: 'image/*' });
      if (this.signal.aborted) return null;
      const handled = this.state.imageUrlHandled(src);
      if (!res.ok) {
        if (res.tooSmall) return { journal: [handled] };
        this.logger.warn('image skipped', { url: src, page, reason: res.reason });
        return { journal: [handled], error: `${src}: ${res.reason}` };
      }
      const stored = await storeImage(this.config.rootDir, res.body);
      if (!stored.ok) {
        this.logger.warn('image rejected', { url: src, page, reason: stored.error });
        return { journal: [handled], error: `${src}: ${stored.error}` };
      }
      const { file, bytes, width, height } = stored.value;
      const counted = this.state.imageSaved(file, bytes);
      const line: ManifestLine = { file, sourceUrl: src, page, width, height, bytes, savedAt: new Date().toISOString() };
      return { journal: counted ? [handled, counted] : [handled], line, saved: counted !== null };
    } finally {
      this.imagesInFlight.delete(src);
    }
  }
}
