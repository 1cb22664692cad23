/**
 * The crawl's memory, rebuilt on every invocation from the NAS (snapshot + journal): the history of visited
 * pages, the frontier, pages and images waiting for a retry, attempts, and what is known about images. Every change
 * is made by applying a journal line, so a replay after a restart yields exactly the state that the lines describe.
 *
 * Journal lines (tab-separated; docs/crawler.md describes the states they move a URL through):
 *   C json                     the crawl's seed, scope and maxDepth
 *   P depth url                a page pushed (the seed)
 *   L depth page link…         a page's links pushed, in push order, each relative to the page
 *   S                          a run started: pages taken and not finished go back on top; see suspects
 *   A url [1]                  a page taken: one attempt (1: taken alone, as a suspect)
 *   U url                      the attempt was not made (its host was paused past the run's end): not counted
 *   R url                      the attempt handled an image: the page's attempts start over
 *   V url [depth]              page crawled
 *   F url reason               page failed                 X url reason   page excluded (robots, not HTML, ...)
 *   W url notBefore depth why  page waits for a retry      D url          page dropped (out of a changed scope)
 *   Q url notBefore n page why image waits for a retry (n attempts made)
 *   G url                      image URL handled           I file bytes   image file saved under img/
 *   M origin [at]              the host's sitemaps were read (at: epoch s; without it, once per crawl)
 *   N url due interval visited hash lastModified etag image…
 *                              a page's revisit record (revisits.ts): times in epoch s, images relative to url
 *   E url lastModified etag    an image URL's validators (refresh.images)
 *   Z url since                an image URL vanished from every page at `since` (epoch s); 0: it is back
 */
import { sectionLines, type LoadedState, type Snapshot } from '../nas/state-store';
import { Frontier, type CrawlOrder, type FrontierItem } from './frontier';
import { relativeTo, resolve } from './relative-url';
import { isPageHash, RevisitTable, type PageRecord } from './revisits';
import { UrlSet } from './url-set';

/** The state format this version writes; see checkFormat for older ones. */
export const STATE_VERSION = 2;

const clean = (text: string) => text.replace(/[\t\r\n]+/g, ' ');

/**
 * Journal lines carry no checksum, so a damaged line is caught by its content: every URL this version wrote is an
 * absolute http(s) URL, and every image file is content-addressed. A page URL that no longer parses would
 * otherwise stop every later run at it.
 */
const isHttpUrl = (s: string | null | undefined): s is string => typeof s === 'string' && /^https?:\/\//.test(s) && URL.canParse(s);
const isCount = (s: string | undefined) => s !== undefined && /^\d+$/.test(s);
const IMAGE_ENTRY = /^img\/[0-9a-f]{64}\.[a-z]+$/;

/** What the crawl was configured with; a change is noticed on load (see CrawlRun.applyConfig). */
export interface CrawlSettings {
  url: string;
  scope: string;
  maxDepth: number | null;
}

export interface WaitingPage {
  depth: number;
  notBefore: number;
  reason: string;
}

export interface WaitingImage {
  page: string;
  notBefore: number;
  attempts: number;
  reason: string;
}

/** A journal line that marks a page crawled. */
export const isVisitLine = (line: string): boolean => line.startsWith('V\t');
/** A journal line that records an image file saved. */
export const isImageSavedLine = (line: string): boolean => line.startsWith('I\t');

export class StateFormatError extends Error {}

/**
 * Version 1 (no version-2 lines or sections) is read as is: every line and section it wrote means the same in
 * version 2. A newer version is refused: this crawler would read its lines as damage.
 */
export function checkFormat(meta: Record<string, unknown> | undefined): void {
  const version = meta?.version ?? 1;
  if (version === 1 || version === STATE_VERSION) return;
  throw new StateFormatError(
    `the crawl state was written by a newer crawler (format version ${JSON.stringify(version)}; this one reads 1 and ${STATE_VERSION}). ` +
      'Deploy the newer crawler, or send {"reset": true} to start the crawl over: reset keeps img/ and manifest.jsonl, and drops the history, frontier and retries',
  );
}

export class CrawlState {
  history = new UrlSet();
  readonly failed = new Map<string, string>();
  readonly frontier = new Frontier();
  readonly waitingPages = new Map<string, WaitingPage>();
  readonly waitingImages = new Map<string, WaitingImage>();
  /** Attempts at pages not yet finished, since their last progress. */
  readonly attempts = new Map<string, number>();
  /**
   * Pages whose last attempt did not finish: the run died or stopped with it in flight. They are visited alone.
   * An attempt that did not finish counts only when the page was alone: in company, the page that killed the run
   * cannot be told apart, and a random crash must not use up innocent pages' attempts.
   */
  readonly suspects = new Set<string>();
  /** Attempts journalled and without an outcome yet: taken alone or not. */
  private readonly openAttempts = new Map<string, boolean>();
  /** Depth at which pages were visited, for those at depth 2 or more when maxDepth is set (to expand them again nearer). */
  readonly depths = new Map<string, number>();
  imageUrls = new UrlSet();
  readonly images = new Map<string, number>();
  settings: CrawlSettings | null = null;
  /** Origins whose sitemaps were read, and when (epoch s; 0 for a read before revisits recorded the time). */
  readonly sitemapsRead = new Map<string, number>();
  revisits = new RevisitTable(this.history);
  /** ETag and Last-Modified (epoch s) of image URLs, kept when refresh.images is on. */
  readonly imageTags = new Map<string, { etag: string; lastModified: number }>();
  /** Image URLs that no page shows any more, since when (epoch s). */
  readonly goneImages = new Map<string, number>();
  totalCrawlCount = 0;
  totalImageSize = 0;
  /** Journal lines that could not be understood (damage), skipped on load. */
  skippedLines = 0;
  /** Snapshot sections that could not be used (damage), described for the log. */
  readonly damagedSections: string[] = [];

  /** Throws StateFormatError for a state this version cannot read. */
  static fromStore(loaded: LoadedState): CrawlState {
    const state = new CrawlState();
    const snapshot = loaded.snapshot;
    if (snapshot) {
      checkFormat(snapshot.meta);
      state.totalCrawlCount = Number(snapshot.meta.totalCrawlCount) || 0;
      state.settings = (snapshot.meta.settings as CrawlSettings | undefined) ?? null;
      for (const entry of (snapshot.meta.sitemapsRead as (string | [string, number])[] | undefined) ?? []) {
        const [origin, at] = typeof entry === 'string' ? [entry, 0] : entry;
        state.sitemapsRead.set(origin, at);
      }
      state.history = new UrlSet(snapshot.sections.history);
      const { revisitTimes, revisitTags, revisitImages } = snapshot.sections;
      state.revisits = new RevisitTable(state.history, revisitTimes ? { revisitTimes, revisitTags: revisitTags ?? Buffer.alloc(0), revisitImages: revisitImages ?? Buffer.alloc(0) } : undefined);
      if (!state.revisits.loaded) state.damagedSections.push('revisit records do not match the history: pages are scheduled again as links find them');
      for (const [lastModified, url, etag] of tabbed(snapshot.sections.imageTags, 3)) state.imageTags.set(url, { etag, lastModified: Number(lastModified) });
      for (const [since, url] of tabbed(snapshot.sections.goneImages, 2)) state.goneImages.set(url, Number(since));
      for (const [url, reason] of tabbed(snapshot.sections.failed, 2)) state.failed.set(url, reason);
      state.loadFrontier(tabbed(snapshot.sections.frontier, 2), sectionLines(snapshot.sections.frontierFrom));
      state.imageUrls = new UrlSet(snapshot.sections.imageUrls);
      for (const line of sectionLines(snapshot.sections.images)) state.addImage(line);
      for (const [n, url] of tabbed(snapshot.sections.attempts, 2)) state.attempts.set(url, Number(n));
      for (const url of sectionLines(snapshot.sections.suspects)) state.suspects.add(url);
      for (const [depth, url] of tabbed(snapshot.sections.depths, 2)) state.depths.set(url, Number(depth));
      for (const [notBefore, depth, url, reason] of tabbed(snapshot.sections.waitingPages, 4)) {
        state.waitingPages.set(url, { depth: Number(depth), notBefore: Number(notBefore), reason });
      }
      for (const [notBefore, attempts, url, page, reason] of tabbed(snapshot.sections.waitingImages, 5)) {
        state.waitingImages.set(url, { page, notBefore: Number(notBefore), attempts: Number(attempts), reason });
      }
    }
    for (const line of loaded.journal) if (!state.apply(line)) state.skippedLines++;
    // The last run's unfinished pages go back on top, as its next run start would do.
    state.putBackUnfinished();
    return state;
  }

  /**
   * The snapshot's frontier, oldest first, with the page each entry was pushed from (`frontierFrom`: one line per
   * entry, relative to it, empty when unknown; a snapshot from before it has none, and a damaged one is not used).
   */
  private loadFrontier(entries: string[][], from: string[]): void {
    const known = from.length === entries.length ? from : [];
    // The links of one page share its URL string, as they do when pushed.
    const pages = new Map<string, string>();
    const shared = (page: string) => pages.get(page) ?? pages.set(page, page).get(page)!;
    entries.forEach(([depth, url], i) => {
      const page = known[i] ? resolve(known[i], url) : null;
      this.frontier.push(url, Number(depth), true, page ? shared(page) : undefined);
    });
  }

  get totalImageDownloaded(): number {
    return this.images.size;
  }

  /** Pages and images waiting for a later attempt. */
  get retryingCount(): number {
    return this.waitingPages.size + this.waitingImages.size;
  }

  toSnapshot(): Snapshot {
    const frontier = this.frontier.entries();
    return {
      meta: { version: STATE_VERSION, totalCrawlCount: this.totalCrawlCount, settings: this.settings, sitemapsRead: [...this.sitemapsRead], savedAt: new Date().toISOString() },
      sections: {
        history: this.history.bytes(),
        failed: [...this.failed].map(([url, reason]) => `${url}\t${reason}`),
        frontier: frontier.map((item) => `${item.depth}\t${item.url}`),
        frontierFrom: frontier.map((item) => (item.from ? relativeTo(item.from, item.url) : '')),
        imageUrls: this.imageUrls.bytes(),
        images: [...this.images].map(([file, bytes]) => `${file}\t${bytes}`),
        attempts: [...this.attempts].map(([url, n]) => `${n}\t${url}`),
        suspects: [...this.suspects],
        depths: [...this.depths].map(([url, depth]) => `${depth}\t${url}`),
        waitingPages: [...this.waitingPages].map(([url, w]) => `${w.notBefore}\t${w.depth}\t${url}\t${w.reason}`),
        waitingImages: [...this.waitingImages].map(([url, w]) => `${w.notBefore}\t${w.attempts}\t${url}\t${w.page}\t${w.reason}`),
        ...this.revisits.toSections(),
        imageTags: [...this.imageTags].map(([url, t]) => `${t.lastModified}\t${url}\t${t.etag}`),
        goneImages: [...this.goneImages].map(([url, since]) => `${since}\t${url}`),
      },
    };
  }

  configured(settings: CrawlSettings): string {
    return this.record(`C\t${JSON.stringify(settings)}`);
  }

  /** Pushes a page unless it was visited or is known; returns the journal line, or null when nothing changed. */
  push(url: string, depth: number, order: CrawlOrder): string | null {
    if (!this.mayPush(url, depth, order)) return null;
    return this.record(`P\t${depth}\t${url}`);
  }

  /**
   * Pushes a page's links (in push order) as one line, or returns null when that would change nothing: a link found
   * again while it waits costs no line of its own.
   */
  pushLinks(page: string, depth: number, links: string[], order: CrawlOrder): string | null {
    const batch = links.filter((url) => this.mayPush(url, depth, order));
    if (batch.length === 0 || (order === 'dfs' && this.frontier.unchangedByPushing(batch, depth))) return null;
    return this.record(`L\t${depth}\t${page}\t${batch.map((url) => relativeTo(url, page)).join('\t')}`);
  }

  /** Not visited (or visited deeper, and so worth expanding again nearer), not being visited, not waiting to retry. */
  private mayPush(url: string, depth: number, order: CrawlOrder): boolean {
    if (this.frontier.isTaken(url) || this.waitingPages.has(url)) return false;
    if (this.history.has(url)) return (this.depths.get(url) ?? 0) > depth;
    return order === 'dfs' || !this.frontier.has(url);
  }

  runStarted(): string {
    return this.record('S');
  }

  /** Takes the top page of the frontier and journals the attempt. */
  take(order: CrawlOrder): { item: FrontierItem; line: string } | null {
    const item = this.frontier.take(order);
    return item ? { item, line: this.attempt(item.url) } : null;
  }

  /**
   * Journals an attempt at a page: one taken from the frontier, a waiting page whose time has come, or a revisit
   * (these two stay where they are until they have an outcome). A suspect's attempt is marked as made alone: the
   * run visits it so.
   */
  attempt(url: string): string {
    return this.record(this.suspects.has(url) ? `A\t${url}\t1` : `A\t${url}`);
  }

  /** The attempt just journalled was not made: the page's host is paused past the run's end. */
  notAttempted(url: string): string {
    return this.record(`U\t${url}`);
  }

  /**
   * Ends the open attempts of a run that is over: its taken pages go back on top, and each page in flight becomes a
   * suspect. Its attempt counts only if it was alone (see suspects).
   */
  putBackUnfinished(): void {
    this.frontier.putBackTaken();
    for (const [url, alone] of this.openAttempts) {
      this.suspects.add(url);
      if (!alone) this.uncount(url);
    }
    this.openAttempts.clear();
  }

  progressed(url: string): string {
    return this.record(`R\t${url}`);
  }

  attemptsAt(url: string): number {
    return this.attempts.get(url) ?? 0;
  }

  private uncount(url: string): void {
    const attempts = this.attemptsAt(url) - 1;
    if (attempts > 0) this.attempts.set(url, attempts);
    else this.attempts.delete(url);
  }

  /** The page has an outcome for now (visited, failed, excluded, waiting, dropped, revisit recorded). */
  private ended(url: string): void {
    this.openAttempts.delete(url);
    this.suspects.delete(url);
  }

  /** Waiting pages whose next attempt is due, earliest first. */
  duePages(now: number): [string, WaitingPage][] {
    return [...this.waitingPages].filter(([, w]) => w.notBefore <= now).sort((a, b) => a[1].notBefore - b[1].notBefore);
  }

  dueImages(now: number): [string, WaitingImage][] {
    return [...this.waitingImages].filter(([, w]) => w.notBefore <= now).sort((a, b) => a[1].notBefore - b[1].notBefore);
  }

  /** depth is recorded only when a page nearer the seed could reach it again (maxDepth set, depth 2 or more). */
  visited(url: string, depth?: number): string {
    return this.record(depth === undefined ? `V\t${url}` : `V\t${url}\t${depth}`);
  }

  failedPage(url: string, reason: string): string {
    return this.record(`F\t${url}\t${clean(reason)}`);
  }

  excluded(url: string, reason: string): string {
    return this.record(`X\t${url}\t${clean(reason)}`);
  }

  pageWaits(url: string, depth: number, notBefore: number, reason: string): string {
    return this.record(`W\t${url}\t${notBefore}\t${depth}\t${clean(reason)}`);
  }

  dropped(url: string): string {
    return this.record(`D\t${url}`);
  }

  imageWaits(url: string, page: string, notBefore: number, attempts: number, reason: string): string {
    return this.record(`Q\t${url}\t${notBefore}\t${attempts}\t${page}\t${clean(reason)}`);
  }

  imageUrlHandled(url: string): string {
    return this.record(`G\t${url}`);
  }

  /** Counts a saved image file once, however often it is found; null when it was already counted. */
  imageSaved(file: string, bytes: number): string | null {
    return this.images.has(file) ? null : this.record(`I\t${file}\t${bytes}`);
  }

  sitemapsDone(origin: string, at: number): string {
    return this.record(`M\t${origin}\t${at}`);
  }

  /** A page's revisit record, after a visit or a change of its schedule. */
  scheduled(url: string, r: PageRecord): string {
    const images = r.images.map((src) => relativeTo(src, url));
    return this.record(['N', url, r.due, r.interval, r.visited, r.hash, r.lastModified, clean(r.etag), ...images].join('\t'));
  }

  imageValidated(url: string, lastModified: number, etag: string): string {
    return this.record(`E\t${url}\t${lastModified}\t${clean(etag)}`);
  }

  /** An image URL vanished from every page (since > 0), or is shown again (0). */
  imageGone(url: string, since: number): string {
    return this.record(`Z\t${url}\t${since}`);
  }

  private record(line: string): string {
    if (!this.apply(line)) throw new Error(`internal: wrote a journal line it cannot read: ${line.slice(0, 200)}`);
    return line;
  }

  /** Applies one journal line; false when it is not a line this version wrote. */
  private apply(line: string): boolean {
    const fields = line.split('\t');
    const [kind, a, b, c] = fields;
    switch (kind) {
      case 'C': {
        const settings = parseJson(line.slice(2)) as CrawlSettings | null;
        if (!settings || !isHttpUrl(settings.url)) return false;
        this.settings = settings;
        return true;
      }
      case 'P':
        // push() wrote it only for a page it may push: no need to look it up again.
        if (fields.length !== 3 || !isCount(a) || !isHttpUrl(b)) return false;
        this.frontier.push(b, Number(a), true);
        return true;
      case 'L': {
        if (fields.length < 4 || !isCount(a) || !isHttpUrl(b)) return false;
        const links = fields.slice(3).map((short) => resolve(short, b));
        if (!links.every(isHttpUrl)) return false;
        for (const url of links) this.frontier.push(url!, Number(a), true, b);
        return true;
      }
      case 'S':
        if (fields.length !== 1) return false;
        this.putBackUnfinished();
        return true;
      case 'A':
        if ((fields.length !== 2 && !(fields.length === 3 && b === '1')) || !isHttpUrl(a)) return false;
        this.frontier.takeUrl(a);
        this.attempts.set(a, this.attemptsAt(a) + 1);
        this.openAttempts.set(a, b === '1');
        return true;
      case 'U':
        if (fields.length !== 2 || !isHttpUrl(a)) return false;
        this.uncount(a);
        return true;
      case 'R':
        if (fields.length !== 2 || !isHttpUrl(a)) return false;
        if (this.attempts.has(a)) this.attempts.set(a, 0);
        return true;
      case 'V':
        if ((fields.length !== 2 && fields.length !== 3) || !isHttpUrl(a) || (fields.length === 3 && !isCount(b))) return false;
        if (this.finish(a)) this.totalCrawlCount++;
        if (b !== undefined) this.depths.set(a, Number(b));
        return true;
      case 'F':
      case 'X':
        if (fields.length !== 3 || !isHttpUrl(a)) return false;
        if (kind === 'F') this.failed.set(a, b);
        this.finish(a);
        return true;
      case 'W':
        if (fields.length !== 5 || !isHttpUrl(a) || !isCount(b) || !isCount(c)) return false;
        this.frontier.remove(a);
        this.waitingPages.set(a, { notBefore: Number(b), depth: Number(c), reason: fields[4] });
        this.ended(a);
        return true;
      case 'D':
        if (fields.length !== 2 || !isHttpUrl(a)) return false;
        this.frontier.remove(a);
        this.waitingPages.delete(a);
        this.attempts.delete(a);
        this.ended(a);
        return true;
      case 'Q':
        if (fields.length !== 6 || !isHttpUrl(a) || !isCount(b) || !isCount(c) || !isHttpUrl(fields[4])) return false;
        this.waitingImages.set(a, { notBefore: Number(b), attempts: Number(c), page: fields[4], reason: fields[5] });
        return true;
      case 'G':
        if (fields.length !== 2 || !isHttpUrl(a)) return false;
        this.imageUrls.add(a);
        this.waitingImages.delete(a);
        return true;
      case 'I':
        if (fields.length !== 3 || !IMAGE_ENTRY.test(a) || !isCount(b)) return false;
        this.addImage(`${a}\t${b}`);
        return true;
      case 'M':
        if (fields.length > 3 || !isHttpUrl(a) || (b !== undefined && !isCount(b))) return false;
        this.sitemapsRead.set(a, Number(b ?? 0));
        return true;
      case 'N': {
        const [, url, due, interval, visited, hash, lastModified, etag, ...relative] = fields;
        if (fields.length < 8 || !isHttpUrl(url) || ![due, interval, visited, lastModified].every(isCount) || !isPageHash(hash)) return false;
        const images = relative.map((short) => resolve(short, url));
        // resolve gives a parsed URL's href or null: no need to parse it again.
        if (!images.every((src) => src !== null && /^https?:/.test(src))) return false;
        this.revisits.set(url, { due: Number(due), interval: Number(interval), visited: Number(visited), hash, lastModified: Number(lastModified), etag, images: images as string[] });
        // A revisit that ends in a record ends its attempt.
        this.attempts.delete(url);
        this.ended(url);
        return true;
      }
      case 'E':
        if (fields.length !== 4 || !isHttpUrl(a) || !isCount(b)) return false;
        this.imageTags.set(a, { lastModified: Number(b), etag: c });
        return true;
      case 'Z':
        if (fields.length !== 3 || !isHttpUrl(a) || !isCount(b)) return false;
        if (b === '0') this.goneImages.delete(a);
        else this.goneImages.set(a, Number(b));
        return true;
      default:
        return false;
    }
  }

  /** Moves a page from the frontier (or its retries) to the history; false when it was already in the history. */
  private finish(url: string): boolean {
    this.frontier.remove(url);
    this.waitingPages.delete(url);
    this.attempts.delete(url);
    this.ended(url);
    return this.history.add(url);
  }

  private addImage(line: string): void {
    const [file, bytes] = line.split('\t');
    if (this.images.has(file)) return;
    this.images.set(file, Number(bytes));
    this.totalImageSize += Number(bytes);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A section's lines split on tabs; the last field takes the rest of the line. */
function tabbed(section: Buffer | undefined, fields: number): string[][] {
  return sectionLines(section).map((line) => {
    const parts = line.split('\t');
    return [...parts.slice(0, fields - 1), parts.slice(fields - 1).join('\t')];
  });
}
