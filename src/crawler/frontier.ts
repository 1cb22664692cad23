/**
 * The work items: pages found but not yet visited, without duplicates.
 * "dfs" takes the last found first (a stack); a page found again while waiting moves to the top, so the visiting
 * order is that of a true depth-first search. "bfs" takes the oldest first and leaves a page found again in place.
 */
export type CrawlOrder = 'dfs' | 'bfs';

export interface FrontierItem {
  readonly url: string;
  readonly depth: number;
}

export class Frontier {
  /** Push order, oldest first; entries replaced by a later push of the same URL are skipped lazily. */
  private items: FrontierItem[] = [];
  private head = 0;
  private readonly live = new Map<string, FrontierItem>();
  /** Taken and being visited: not pushed again when another page links to them meanwhile. */
  private readonly taken = new Set<string>();

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

  /**
   * Adds a page; returns the item to record when the frontier changed, or null. With `moveToTop` (dfs, and
   * replaying a journal) a page already waiting moves to the top, keeping its smaller depth.
   */
  push(url: string, depth: number, moveToTop: boolean): FrontierItem | null {
    if (this.taken.has(url)) return null;
    const existing = this.live.get(url);
    if (existing && !moveToTop) return null;
    const item = { url, depth: existing ? Math.min(existing.depth, depth) : depth };
    this.live.set(url, item);
    this.items.push(item);
    return item;
  }

  take(order: CrawlOrder): FrontierItem | undefined {
    while (this.head < this.items.length) {
      const item = order === 'dfs' ? this.items.pop()! : this.items[this.head++];
      if (this.live.get(item.url) === item) {
        this.live.delete(item.url);
        this.taken.add(item.url);
        this.compactIfSparse();
        return item;
      }
    }
    return undefined;
  }

  /** A page was visited (or given up): it leaves the frontier for good. */
  remove(url: string): void {
    this.taken.delete(url);
    if (this.live.delete(url)) this.compactIfSparse();
  }

  /** A taken page that was not visited goes back, on top in dfs, as if it had never been taken. */
  putBack(item: FrontierItem): void {
    this.taken.delete(item.url);
    this.push(item.url, item.depth, false);
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
