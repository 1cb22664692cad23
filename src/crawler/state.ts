/**
 * The crawl's memory, rebuilt on every invocation from the NAS (snapshot + journal): the history of visited
 * pages, the frontier, and what is known about images. Every change is made by applying a journal line, so
 * a replay after a restart yields exactly the state that the lines describe.
 *
 * Journal lines (tab-separated):
 *   P depth url     page pushed to the frontier       V url          page crawled
 *   F url reason    page failed                       X url reason   page excluded (robots, not HTML, ...)
 *   G url           image URL handled                 I file bytes   image file saved under img/
 *   S origin        the host's sitemaps were read (once per crawl)
 */
import { sectionLines, type LoadedState, type Snapshot } from '../nas/state-store';
import { Frontier, type CrawlOrder } from './frontier';
import { UrlSet } from './url-set';

const clean = (text: string) => text.replace(/[\t\r\n]+/g, ' ');

/**
 * Journal lines carry no checksum, so a damaged line is caught by its content: every URL this version wrote is an
 * absolute http(s) URL, and every image file is content-addressed. A page URL that no longer parses would
 * otherwise stop every later run at it.
 */
const isHttpUrl = (s: string | undefined) => s !== undefined && /^https?:\/\//.test(s) && URL.canParse(s);
const IMAGE_ENTRY = /^img\/[0-9a-f]{64}\.[a-z]+$/;

/** A journal line that marks a page crawled. */
export const isVisitLine = (line: string): boolean => line.startsWith('V\t');

export class CrawlState {
  history = new UrlSet();
  readonly failed = new Map<string, string>();
  readonly frontier = new Frontier();
  imageUrls = new UrlSet();
  readonly images = new Map<string, number>();
  /** Origins whose sitemaps seeded the frontier already. */
  readonly sitemapsRead = new Set<string>();
  totalCrawlCount = 0;
  totalImageSize = 0;
  /** Journal lines that could not be understood (damage), skipped on load. */
  skippedLines = 0;

  static fromStore(loaded: LoadedState): CrawlState {
    const state = new CrawlState();
    const snapshot = loaded.snapshot;
    if (snapshot) {
      state.totalCrawlCount = Number(snapshot.meta.totalCrawlCount) || 0;
      for (const origin of (snapshot.meta.sitemapsRead as string[] | undefined) ?? []) state.sitemapsRead.add(origin);
      state.history = new UrlSet(snapshot.sections.history);
      for (const line of sectionLines(snapshot.sections.failed)) {
        const tab = line.indexOf('\t');
        state.failed.set(line.slice(0, tab), line.slice(tab + 1));
      }
      for (const line of sectionLines(snapshot.sections.frontier)) {
        const tab = line.indexOf('\t');
        state.frontier.push(line.slice(tab + 1), Number(line.slice(0, tab)), true);
      }
      state.imageUrls = new UrlSet(snapshot.sections.imageUrls);
      for (const line of sectionLines(snapshot.sections.images)) state.addImage(line);
    }
    for (const line of loaded.journal) if (!state.apply(line)) state.skippedLines++;
    return state;
  }

  get totalImageDownloaded(): number {
    return this.images.size;
  }

  toSnapshot(): Snapshot {
    return {
      meta: { version: 1, totalCrawlCount: this.totalCrawlCount, savedAt: new Date().toISOString(), sitemapsRead: [...this.sitemapsRead] },
      sections: {
        history: this.history.bytes(),
        failed: [...this.failed].map(([url, reason]) => `${url}\t${reason}`),
        frontier: this.frontier.entries().map((item) => `${item.depth}\t${item.url}`),
        imageUrls: this.imageUrls.bytes(),
        images: [...this.images].map(([file, bytes]) => `${file}\t${bytes}`),
      },
    };
  }

  /** Pushes a page unless it was visited; returns the journal line, or null when nothing changed. */
  push(url: string, depth: number, order: CrawlOrder): string | null {
    if (this.history.has(url) || this.frontier.isTaken(url)) return null;
    if (order === 'bfs' && this.frontier.has(url)) return null;
    return this.record(`P\t${depth}\t${url}`);
  }

  visited(url: string): string {
    return this.record(`V\t${url}`);
  }

  failedPage(url: string, reason: string): string {
    return this.record(`F\t${url}\t${clean(reason)}`);
  }

  excluded(url: string, reason: string): string {
    return this.record(`X\t${url}\t${clean(reason)}`);
  }

  imageUrlHandled(url: string): string {
    return this.record(`G\t${url}`);
  }

  /** Counts a saved image file once, however often it is found; null when it was already counted. */
  imageSaved(file: string, bytes: number): string | null {
    return this.images.has(file) ? null : this.record(`I\t${file}\t${bytes}`);
  }

  sitemapsDone(origin: string): string {
    return this.record(`S\t${origin}`);
  }

  private record(line: string): string {
    this.apply(line);
    return line;
  }

  /** Applies one journal line; false when it is not a line this version wrote. */
  private apply(line: string): boolean {
    const fields = line.split('\t');
    const [kind, a, b] = fields;
    switch (kind) {
      case 'P':
        // push() wrote it only for a page not yet visited, and history only grows: no need to look it up again.
        if (fields.length !== 3 || !Number.isInteger(Number(a)) || !isHttpUrl(b)) return false;
        this.frontier.push(b, Number(a), true);
        return true;
      case 'V':
        if (fields.length !== 2 || !isHttpUrl(a)) return false;
        if (this.finish(a)) this.totalCrawlCount++;
        return true;
      case 'F':
      case 'X':
        if (fields.length !== 3 || !isHttpUrl(a)) return false;
        if (kind === 'F') this.failed.set(a, b);
        this.finish(a);
        return true;
      case 'G':
        if (fields.length !== 2 || !isHttpUrl(a)) return false;
        this.imageUrls.add(a);
        return true;
      case 'I':
        if (fields.length !== 3 || !IMAGE_ENTRY.test(a) || !/^\d+$/.test(b)) return false;
        this.addImage(`${a}\t${b}`);
        return true;
      case 'S':
        if (fields.length !== 2 || !isHttpUrl(a)) return false;
        this.sitemapsRead.add(a);
        return true;
      default:
        return false;
    }
  }

  /** Moves a page from the frontier to the history; false when it was already in the history. */
  private finish(url: string): boolean {
    this.frontier.remove(url);
    return this.history.add(url);
  }

  private addImage(line: string): void {
    const [file, bytes] = line.split('\t');
    if (this.images.has(file)) return;
    this.images.set(file, Number(bytes));
    this.totalImageSize += Number(bytes);
  }
}
