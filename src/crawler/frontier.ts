/**
 * The work items: pages found but not yet visited, without duplicates.
 * "dfs" takes the last found first (a stack); a page found again while waiting moves to the top, so the visiting
 * order is that of a true depth-first search. "bfs" takes the oldest first and leaves a page found again in place.
 * A taken page leaves the stack; if it is not finished by the end of its run it goes back on top (putBackTaken).
 */
export type CrawlOrder = 'dfs' | 'bfs';

export interface FrontierItem {
  readonly url: string;
  readonly depth: number;
  /**
   * The page whose link pushed it (in dfs the latest such page, the one it is visited under), so that a link to an
   * image file names the page it was found on. Unknown for seeds, sitemap entries and state from older versions.
   */
  readonly from?: string;
}

export class Frontier {
  /** Push order, oldest first; entries replaced by a later push of the same URL are skipped lazily. */
  private items: FrontierItem[] = [];
  private head = 0;
  private readonly live = new Map<string, FrontierItem>();
  /** Taken and not finished, in the order they were taken: not pushed again while being visited. */
  private readonly taken = new Map<string, FrontierItem>();

  /** Waiting pages (taken ones not counted). */
  get size(): number {
    return this.live.size;
  }

  /** Waiting or being visited. */
  has(url: string): boolean {
    return this.live.has(url) || this.taken.has(url);
  }

  isTaken(url: string): boolean {
    return this.taken.has(url);
  }

  depthOf(url: string): number | undefined {
    return this.live.get(url)?.depth;
  }

  /**
   * Adds a page; returns the item when the frontier changed, or null. With `moveToTop` (dfs, and replaying a
   * journal) a page already waiting moves to the top, keeping its smaller depth.
   */
  push(url: string, depth: number, moveToTop: boolean, from?: string): FrontierItem | null {
    if (this.taken.has(url)) return null;
    const existing = this.live.get(url);
    if (existing && !moveToTop) return null;
    const item = { url, depth: existing ? Math.min(existing.depth, depth) : depth, from: from ?? existing?.from };
    this.live.set(url, item);
    this.items.push(item);
    return item;
  }

  /**
   * True when pushing these pages (in this order, with moveToTop) would leave the frontier as it is: they all wait
   * already, at no greater depth, and are its top entries in the order the pushes would leave them.
   */
  unchangedByPushing(urls: string[], depth: number): boolean {
    let i = urls.length - 1;
    for (let at = this.items.length - 1; i >= 0 && at >= this.head; at--) {
      const item = this.items[at];
      if (this.live.get(item.url) !== item) continue;
      if (item.url !== urls[i] || item.depth > depth) return false;
      i--;
    }
    return i < 0;
  }

  take(order: CrawlOrder): FrontierItem | undefined {
    while (this.head < this.items.length) {
      const item = order === 'dfs' ? this.items.pop()! : this.items[this.head++];
      if (this.live.get(item.url) === item) {
        this.live.delete(item.url);
        this.taken.set(item.url, item);
        this.compactIfSparse();
        return item;
      }
    }
    return undefined;
  }

  /** Takes a named page (replaying a journal); false when it is not waiting. */
  takeUrl(url: string): boolean {
    const item = this.live.get(url);
    if (!item) return false;
    this.live.delete(url);
    this.taken.set(url, item);
    this.compactIfSparse();
    return true;
  }

  /** A page was visited, given up or moved elsewhere: it leaves the frontier. */
  remove(url: string): void {
    this.taken.delete(url);
    if (this.live.delete(url)) this.compactIfSparse();
  }

  /** Taken pages that were not finished go back, in the order they were taken (so the last taken is on top in dfs). */
  putBackTaken(): void {
    const items = [...this.taken.values()];
    this.taken.clear();
    for (const item of items) this.push(item.url, item.depth, true, item.from);
  }

  /** Live items, oldest first: the order a snapshot stores and a replay restores. */
  entries(): FrontierItem[] {
    return this.items.slice(this.head).filter((item) => this.live.get(item.url) === item);
  }

  private compactIfSparse(): void {
    if (this.items.length - this.head > 2 * this.live.size + 1024) {
      this.items = this.entries();
      this.head = 0;
    }
  }
}
