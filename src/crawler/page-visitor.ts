/**
 * Visits one page: robots check, fetch, links onto the frontier as soon as the HTML is parsed, then images onto
 * the NAS. Each step's journal and manifest lines are handed to the run's group commit as the step completes, so
 * a page cut off by the deadline or a crash keeps what it did: the next attempt fetches only what is left.
 * One bad link or image never aborts the page.
 */
import type { Logger } from '../log';
import { nextAttemptAt } from './backoff';
import type { FetchOutcome, Fetcher, Validators } from './fetcher';
import { extractRefs } from './extract';
import type { FrontierItem } from './frontier';
import { storeImage } from '../collection/image-store';
import { sniffImageType } from '../collection/image-type';
import type { GoneMark, ManifestLine } from '../collection/manifest';
import type { CrawlConfig } from './payload';
import { firstInterval, nextInterval, pageHash, type RefreshPolicy } from './revisit-policy';
import type { PageRecord } from './revisits';
import type { RobotsRules } from './robots';
import { inScope } from './scope';
import type { CrawlState } from './state';
import { originOf } from './url';

/** What a step changed, for the run to commit: journal lines, then manifest lines and marks (written first), then error lines. */
export interface Changes {
  journal: string[];
  manifest?: ManifestLine[];
  gone?: GoneMark[];
  errors?: string[];
}

/** What this run's revisits found, for the result. */
export interface RevisitCounts {
  revisited: number;
  notModified: number;
  changed: number;
}

/** Settles once the changes are on the NAS. */
export type Commit = (changes: Changes) => Promise<void>;

/**
 * A visit whose outcome is known in memory (visited, failed, excluded, waiting, or unfinished: the run stopped
 * first), with the sync of its last changes, which the run awaits after freeing the page's slot.
 */
export interface Visit {
  committed: Promise<void>;
}

/** Unfinished: nothing was changed, so nothing is to be synced. */
const UNFINISHED: Visit = { committed: Promise.resolve() };

const HTML_TYPES = /^(text\/html|application\/xhtml\+xml)\b/i;
const ROBOTS_UNAVAILABLE = "its host's robots.txt is unavailable";

export interface VisitorContext {
  config: CrawlConfig;
  state: CrawlState;
  fetcher: Fetcher;
  robots: RobotsRules | null;
  signal: AbortSignal;
  logger: Logger;
  commit: Commit;
  /** The clock that retry times are set by. */
  now: () => number;
  /** Called when links were pushed, so the run can start the new top of the stack at once. */
  onLinks: () => void;
}

export class PageVisitor {
  private readonly seed: URL;
  /** Image URLs being fetched by some page of this run, so two pages never fetch the same one at once. */
  private readonly imagesInFlight = new Set<string>();
  /** Known image URLs asked again this run (refresh.images): once per run, however many pages show them. */
  private readonly imagesRevalidated = new Set<string>();
  readonly revisitCounts: RevisitCounts = { revisited: 0, notModified: 0, changed: 0 };
  /** Set by the run when some visited page has no record yet, so links to such pages schedule them (adopt). */
  adopting = false;

  constructor(private readonly ctx: VisitorContext) {
    this.seed = new URL(ctx.config.url);
  }

  /**
   * A first visit, or with `previous` (the page's record) a revisit: a conditional GET when the record has
   * validators, new links and images taken as on a first visit, and a new record whose interval adapts to whether
   * the page's links and images changed.
   */
  async visit(item: FrontierItem, previous?: PageRecord): Promise<Visit> {
    const { url, depth } = item;
    const { config, state, commit, logger } = this.ctx;
    const refresh = config.refresh;
    const unscheduled = () => this.unscheduled(url, previous);
    const finish = (line: string, error?: string, record?: Changes): Visit => {
      const committed = commit({ journal: [line, ...(record?.journal ?? [])], gone: record?.gone, errors: error ? [`${url}: ${error}`] : [] });
      if (previous) this.revisitCounts.revisited++;
      return { committed };
    };
    // With debug, every page gets a line, whatever became of it; a failed page is logged as a warning anyway.
    const excluded = (reason: string) => {
      if (config.debug) logger.info('page excluded', { url, depth, reason });
      return finish(state.excluded(url, reason), undefined, unscheduled());
    };
    const failed = (reason: string) => {
      logger.warn('page failed', { url, depth, reason, revisit: previous !== undefined });
      return finish(state.failedPage(url, reason), reason, unscheduled());
    };
    const unavailable = (reason: string, retryAfterMs?: number, unsent = false): Visit => {
      if (previous && refresh) {
        const attempts = state.attemptsAt(url);
        // A revisit that meets a transient failure keeps the page and its interval, and comes back no sooner than
        // minInterval: a site that is down for a day costs one request per minInterval, not one per run.
        const due = Math.max(nextAttemptAt(this.ctx.now(), attempts, retryAfterMs), this.ctx.now() + refresh.minIntervalS * 1000);
        logger.warn('page revisit will be retried', { url, reason, attempts, notBefore: new Date(due).toISOString() });
        return { committed: commit({ journal: [state.scheduled(url, { ...previous, due: Math.ceil(due / 1000) })], errors: [`${url}: ${reason} (revisit retried later)`] }) };
      }
      // A request never made (its host paused past the run's end) is no attempt: the page only waits.
      const notAttempted = unsent ? [state.notAttempted(url)] : [];
      const attempts = state.attemptsAt(url); // after the line above, which gives an unsent attempt back
      if (attempts >= config.maxAttempts) return failed(`${reason}; gave up after ${attempts} attempts`);
      const notBefore = nextAttemptAt(this.ctx.now(), attempts, retryAfterMs);
      logger.warn('page will be retried', { url, depth, reason, attempts, unsent, notBefore: new Date(notBefore).toISOString() });
      const counted = unsent ? 'not an attempt' : `attempt ${attempts} of ${config.maxAttempts}`;
      return finish(state.pageWaits(url, depth, notBefore, reason), `${reason} (${counted}, retried later)`, { journal: notAttempted });
    };
    const unfinished = (reason: string): Visit => {
      if (config.debug) logger.info('page unfinished', { url, depth, reason });
      return UNFINISHED;
    };

    const verdict = this.ctx.robots ? await this.ctx.robots.verdict(url) : 'allowed';
    if (this.ctx.signal.aborted) return unfinished('run stopping');
    if (verdict === 'unavailable') return unavailable('robots.txt unavailable');
    if (verdict === 'disallowed') return excluded('disallowed by robots.txt');

    const started = Date.now();
    // A redirect into a host whose robots.txt is unavailable waits for a later run, as a page of that host would.
    let hopHostUnavailable = false;
    const options = {
      // A link may turn out to be an image (decided by its bytes below), so the image cap holds while reading any
      // response that does not call itself HTML; one that does is held to the page cap, so a huge page costs no more.
      maxBytes: (contentType: string) => (HTML_TYPES.test(contentType) ? config.maxPageBytes : Math.max(config.maxPageBytes, config.maxImageBytes)),
      accept: 'text/html,application/xhtml+xml;q=0.9,image/*;q=0.8,*/*;q=0.5',
      checkHop: async (hop: URL) => {
        const refusal = await this.refuseHop(hop);
        if (refusal === ROBOTS_UNAVAILABLE) hopHostUnavailable = true;
        return refusal;
      },
    };
    const validators = previous && validatorsOf(previous);
    const res = validators ? await this.ctx.fetcher.revalidate(url, validators, options) : await this.ctx.fetcher.get(url, options);
    if (this.ctx.signal.aborted) return unfinished('run stopping');
    if (hopHostUnavailable) return unavailable('robots.txt of the redirect target unavailable');
    // Not requested (its host is paused past the run's end) or a transient failure: the page waits for its host.
    if (!res.ok) return res.transient ? unavailable(res.reason, res.retryAfterMs, res.unsent) : failed(res.reason);
    if (res.notModified) return this.notModified(url, previous!, res.validators);
    if (sniffImageType(res.body)) return this.imageLink(url, item.from ?? url, res, unscheduled());
    if (!HTML_TYPES.test(res.contentType)) return excluded(`not HTML (${res.contentType || 'no Content-Type'})`);
    if (res.body.length > config.maxPageBytes) return failed(`larger than the cap of ${config.maxPageBytes} bytes`);

    const pageUrl = res.url;
    // Redirected: the target is visited under its own name too, and only once.
    if (pageUrl !== url && state.history.has(pageUrl) && !previous) return excluded(`redirects to ${pageUrl}, already visited`);
    const refs = extractRefs(res.body, pageUrl, { nofollow: config.respectRobots });
    const links = this.keptLinks(refs.links, url);
    // The links go on the stack now, before the images, so the next page started is this page's first link. Their
    // line is synced together with the images' (one group commit); the page is done only once all are on the NAS.
    const linksCommitted = this.pushLinks(pageUrl, links, depth + 1);
    linksCommitted.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled

    let progressed = false;
    const onHandled = () => {
      if (progressed) return [];
      progressed = true;
      return [state.progressed(url)];
    };
    const images = refs.images.filter((src) => src.length <= config.maxUrlLength);
    const saved = await Promise.all(
      images.map((src) => (previous && refresh && refresh.images && state.imageUrls.has(src) ? this.revalidateImage(src, pageUrl) : this.fetchImage(src, pageUrl, onHandled))),
    );
    if (this.ctx.signal.aborted) return unfinished('run stopping');

    const visitDepth = config.maxDepth !== undefined && depth >= 2 ? depth : undefined;
    const journal: string[] = [];
    if (pageUrl !== url && !state.history.has(pageUrl)) journal.push(state.visited(pageUrl, visitDepth));
    if (!previous) journal.push(state.visited(url, visitDepth));
    let record: Changes = { journal: [] };
    if (refresh) {
      const hash = pageHash(refs.links, images);
      const next = this.nextRecord(refresh, previous, hash, res.validators, images);
      record = this.recordChanges(url, next, previous);
      if (pageUrl !== url) record.journal.push(state.scheduled(pageUrl, next));
      if (previous && previous.hash !== '' && previous.hash !== hash) this.revisitCounts.changed++;
    }
    // Queued after the links' line, and a failed write stops every later one (GroupCommit.queue): on the NAS, a
    // page is visited only together with its links.
    const committed = Promise.all([linksCommitted, commit({ journal: [...journal, ...record.journal], gone: record.gone })]).then(() => undefined);
    if (previous) this.revisitCounts.revisited++;
    if (config.debug) {
      const imagesSaved = saved.filter(Boolean).length;
      logger.info(previous ? 'page revisited' : 'page crawled', { url, finalUrl: pageUrl, depth, links: links.length, images: images.length, imagesSaved, ms: Date.now() - started });
    }
    return { committed };
  }

  /** A 304: the page is as it was; its known links stay where they are (visited, or waiting), and so do its images. */
  private async notModified(url: string, previous: PageRecord, validators: Validators): Promise<Visit> {
    const { state, config } = this.ctx;
    const refresh = config.refresh as RefreshPolicy;
    const revalidated = refresh.images ? await Promise.all(previous.images.filter((src) => state.imageUrls.has(src)).map((src) => this.revalidateImage(src, url))) : [];
    if (this.ctx.signal.aborted) return UNFINISHED;
    const record = this.recordChanges(url, this.nextRecord(refresh, previous, previous.hash, validators, previous.images), previous);
    const committed = this.ctx.commit(record);
    this.revisitCounts.revisited++;
    this.revisitCounts.notModified++;
    if (config.debug) this.ctx.logger.info('page not modified', { url, imagesRevalidated: revalidated.length });
    return { committed };
  }

  /** The record after a visit that found `hash`: the interval shrinks when the page changed, grows when it did not. */
  private nextRecord(refresh: RefreshPolicy, previous: PageRecord | undefined, hash: string, validators: Validators, images: string[]): PageRecord {
    const now = this.ctx.now();
    // A record made before the page was seen (adopted, see pushLinks) has no hash to compare: its interval stays.
    const interval = !previous ? firstInterval(refresh) : previous.hash === '' ? previous.interval : nextInterval(refresh, previous.interval, previous.hash !== hash);
    return {
      due: Math.ceil(now / 1000) + interval,
      interval,
      visited: Math.floor(now / 1000),
      hash,
      lastModified: epochSeconds(validators.lastModified),
      etag: validators.etag ?? '',
      images: [...new Set(images)],
    };
  }

  /**
   * The lines for a page that is no page any more (excluded, failed): a record that is never due, so that links to
   * it do not schedule it again, and the images it showed may be gone. None with refresh off.
   */
  unscheduled(url: string, previous?: PageRecord): Changes {
    const refresh = this.ctx.config.refresh;
    if (!refresh) return { journal: [] };
    return this.recordChanges(url, { ...(previous ?? this.freshRecord(refresh)), due: 0, images: [] }, previous);
  }

  /** A record never seen (excluded on its first visit, or adopted). */
  private freshRecord(refresh: RefreshPolicy): PageRecord {
    const now = Math.floor(this.ctx.now() / 1000);
    return { due: now, interval: firstInterval(refresh), visited: 0, hash: '', lastModified: 0, etag: '', images: [] };
  }

  /**
   * The page's new record, and for each image URL it no longer shows that no other page shows either a `goneSince`
   * mark (the file stays on the NAS); an image URL it shows again loses its mark.
   */
  private recordChanges(url: string, record: PageRecord, previous: PageRecord | undefined): Changes {
    const { state } = this.ctx;
    const journal = [state.scheduled(url, record)];
    const gone: GoneMark[] = [];
    const nowS = Math.floor(this.ctx.now() / 1000);
    for (const src of record.images) {
      if (!state.goneImages.has(src)) continue;
      journal.push(state.imageGone(src, 0));
      gone.push({ sourceUrl: src, goneSince: null });
    }
    const shown = new Set(record.images);
    for (const src of previous?.images ?? []) {
      if (shown.has(src) || state.goneImages.has(src) || state.revisits.showsImage(src)) continue;
      journal.push(state.imageGone(src, nowS));
      gone.push({ sourceUrl: src, goneSince: new Date(nowS * 1000).toISOString() });
    }
    return { journal, gone };
  }

  /** Fetches an image that waited for a retry, for the page it was found on. */
  retryImage(src: string, page: string): Promise<boolean> {
    return this.fetchImage(src, page, () => [], true);
  }

  /** A redirect target passes the same checks as a link: scope, then its host's robots.txt. */
  private async refuseHop(hop: URL): Promise<string | null> {
    if (!inScope(hop, this.seed, this.ctx.config.scope)) return `outside the "${this.ctx.config.scope}" scope`;
    const verdict = this.ctx.robots ? await this.ctx.robots.verdict(hop.href) : 'allowed';
    if (verdict === 'disallowed') return 'disallowed by robots.txt';
    if (verdict === 'unavailable') return ROBOTS_UNAVAILABLE;
    return null;
  }

  /** In scope, not too long, at most maxLinksPerPage; what is dropped is counted in the debug log. */
  private keptLinks(found: string[], page: string): string[] {
    const { config, logger } = this.ctx;
    const short = found.filter((link) => link.length <= config.maxUrlLength);
    // A page's links share a few origins: one scope check each, not one URL object per link.
    const scopeOf = new Map<string, boolean>();
    const kept = short.slice(0, config.maxLinksPerPage).filter((link) => {
      const origin = originOf(link);
      let within = scopeOf.get(origin);
      if (within === undefined) scopeOf.set(origin, (within = inScope(new URL(link), this.seed, config.scope)));
      return within;
    });
    if (config.debug && short.length < found.length) logger.info('links dropped: too long', { url: page, dropped: found.length - short.length, maxUrlLength: config.maxUrlLength });
    if (config.debug && short.length > config.maxLinksPerPage) logger.info('links dropped: too many', { url: page, dropped: short.length - config.maxLinksPerPage, maxLinksPerPage: config.maxLinksPerPage });
    return kept;
  }

  /** In dfs, pushed in reverse document order so the page's first link is on top: the order of a recursive DFS. */
  private pushLinks(page: string, links: string[], depth: number): Promise<void> {
    const { config, state } = this.ctx;
    if (config.maxDepth !== undefined && depth > config.maxDepth) return Promise.resolve();
    const line = state.pushLinks(page, depth, config.order === 'dfs' ? [...links].reverse() : links, config.order);
    const adopted = this.adopt(links);
    if (!line && adopted.length === 0) return Promise.resolve();
    const committed = this.ctx.commit({ journal: [...(line ? [line] : []), ...adopted] });
    if (line) this.ctx.onLinks();
    return committed;
  }

  /**
   * Visited pages without a record (crawled before revisits were on) are scheduled now as links lead to them, so a
   * crawl that was done before revisits existed is revisited from its seed outwards.
   */
  adopt(urls: string[]): string[] {
    const { config, state } = this.ctx;
    const refresh = config.refresh;
    if (!refresh || !this.adopting) return [];
    return urls
      .filter((url) => state.history.has(url) && !state.failed.has(url) && !state.revisits.get(url))
      .map((url) => state.scheduled(url, this.freshRecord(refresh)));
  }

  /**
   * A link whose response is an image (by its bytes): saved as an image found on `page`, the page whose link it was
   * (the image URL itself when that is not known).
   */
  private async imageLink(url: string, page: string, res: FetchOutcome & { ok: true }, record: Changes): Promise<Visit> {
    const { state, config } = this.ctx;
    const kept = await this.keepImage(url, page, res.body, () => (state.imageUrls.has(url) ? [] : [state.imageUrlHandled(url)]));
    const excluded = state.excluded(url, 'an image, not a page (saved under img/ when it passes the image checks)');
    const committed = this.ctx.commit({ ...kept, journal: [...kept.journal, excluded, ...record.journal], gone: record.gone });
    if (config.debug) this.ctx.logger.info('image link', { url, saved: kept.saved });
    return { committed };
  }

  /** Fetches, checks and stores one image, committing its lines; true when a new image file was counted. */
  private async fetchImage(src: string, page: string, onHandled: () => string[], retrying = false): Promise<boolean> {
    const { state, config, logger } = this.ctx;
    if (state.imageUrls.has(src) || this.imagesInFlight.has(src) || (!retrying && state.waitingImages.has(src))) return false;
    this.imagesInFlight.add(src);
    try {
      const res = await this.ctx.fetcher.get(src, { maxBytes: config.maxImageBytes, minBytes: config.cutoffSize * 1024, accept: 'image/*' });
      if (this.ctx.signal.aborted) return false;
      if (!res.ok && res.transient) {
        // A request never made (its host paused past the run's end) is no attempt.
        const made = state.waitingImages.get(src)?.attempts ?? 0;
        const attempts = res.unsent ? made : made + 1;
        if (attempts < config.maxAttempts) {
          const notBefore = nextAttemptAt(this.ctx.now(), attempts, res.retryAfterMs);
          logger.warn('image will be retried', { url: src, page, reason: res.reason, attempts, notBefore: new Date(notBefore).toISOString() });
          await this.ctx.commit({ journal: [state.imageWaits(src, page, notBefore, attempts, res.reason)], errors: [`${src}: ${res.reason} (retried later)`] });
          return false;
        }
        res.reason = `${res.reason}; gave up after ${attempts} attempts`;
      }
      const handled = () => [state.imageUrlHandled(src), ...onHandled()];
      if (!res.ok) {
        if (!res.tooSmall) logger.warn('image skipped', { url: src, page, reason: res.reason });
        await this.ctx.commit({ journal: handled(), errors: res.tooSmall ? [] : [`${src}: ${res.reason}`] });
        return false;
      }
      const kept = await this.keepImage(src, page, res.body, () => [...handled(), ...this.imageValidators(src, res.validators)]);
      await this.ctx.commit(kept);
      return kept.saved;
    } finally {
      this.imagesInFlight.delete(src);
    }
  }

  /**
   * A known image URL asked again (refresh.images), conditionally when its validators are known. A 304 changes
   * nothing; new content is saved as a new file beside the old one, which stays. A failure leaves the image as it
   * is, for the next revisit to try.
   */
  private async revalidateImage(src: string, page: string): Promise<boolean> {
    const { state, config, logger } = this.ctx;
    if (this.imagesRevalidated.has(src) || this.imagesInFlight.has(src)) return false;
    this.imagesRevalidated.add(src);
    this.imagesInFlight.add(src);
    try {
      const tags = state.imageTags.get(src);
      const options = { maxBytes: config.maxImageBytes, minBytes: config.cutoffSize * 1024, accept: 'image/*' };
      const validators = tags && validatorsOf(tags);
      const res = validators ? await this.ctx.fetcher.revalidate(src, validators, options) : await this.ctx.fetcher.get(src, options);
      if (this.ctx.signal.aborted || (res.ok && res.notModified)) return false;
      if (!res.ok) {
        if (!res.tooSmall) logger.warn('image revisit failed', { url: src, page, reason: res.reason });
        await this.ctx.commit({ journal: [], errors: res.tooSmall ? [] : [`${src}: ${res.reason} (revisit)`] });
        return false;
      }
      const kept = await this.keepImage(src, page, res.body, () => this.imageValidators(src, res.validators));
      await this.ctx.commit(kept);
      return kept.saved;
    } finally {
      this.imagesInFlight.delete(src);
    }
  }

  /** The line that keeps an image's validators, when refresh.images will ask for it again. */
  private imageValidators(src: string, validators: Validators): string[] {
    const { config, state } = this.ctx;
    if (!config.refresh || !config.refresh.images) return [];
    return [state.imageValidated(src, epochSeconds(validators.lastModified), validators.etag ?? '')];
  }

  /**
   * Stores an image body; the lines that record it, after those of `handled`. Lines are made only once the file is
   * written, right before they are committed: the journal holds them in the order they changed the state.
   */
  private async keepImage(src: string, page: string, body: Buffer, handled: () => string[]): Promise<Changes & { saved: boolean }> {
    const { state, config, logger } = this.ctx;
    if (body.length < config.cutoffSize * 1024) return { journal: handled(), saved: false };
    const stored = await storeImage(config.rootDir, body);
    const journal = handled();
    if (!stored.ok) {
      logger.warn('image rejected', { url: src, page, reason: stored.error });
      return { journal, errors: [`${src}: ${stored.error}`], saved: false };
    }
    const { file, bytes, width, height } = stored.value;
    const counted = state.imageSaved(file, bytes);
    const line: ManifestLine = { file, sourceUrl: src, page, width, height, bytes, savedAt: new Date().toISOString() };
    return { journal: counted ? [...journal, counted] : journal, manifest: [line], saved: counted !== null };
  }
}

/** A Last-Modified header as kept in a record: epoch seconds, 0 when absent or not a date. */
function epochSeconds(httpDate: string | undefined): number {
  const ms = httpDate ? Date.parse(httpDate) : NaN;
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
}

/** The headers of a conditional GET, from what a record kept (the inverse of epochSeconds); undefined when it kept neither. */
function validatorsOf(kept: { etag: string; lastModified: number }): Validators | undefined {
  if (!kept.etag && !kept.lastModified) return undefined;
  return {
    ...(kept.etag ? { etag: kept.etag } : {}),
    ...(kept.lastModified ? { lastModified: new Date(kept.lastModified * 1000).toUTCString() } : {}),
  };
}
