/**
 * A set of URLs that loads fast: the snapshot stores it as sorted newline-ended lines, kept here as those raw
 * bytes plus an index of line starts, so loading a million URLs creates no million strings (and no GC storm);
 * a lookup is a binary search over the bytes. Additions since the snapshot live in a small Set.
 * Crawled URLs are ASCII (WHATWG URL serialisation percent-encodes the rest), so byte order = string order.
 */
export class UrlSet {
  private readonly added = new Set<string>();
  /** Start offset of each line in `base`, plus one past the last line's newline. */
  private readonly starts: Uint32Array;

  /** `base` must be sorted lines, each ending in "\n", as bytes() writes them. */
  constructor(private readonly base: Buffer = Buffer.alloc(0)) {
    let count = 0;
    for (let at = base.indexOf(0x0a); at !== -1; at = base.indexOf(0x0a, at + 1)) count++;
    this.starts = new Uint32Array(count + 1);
    for (let i = 1, at = base.indexOf(0x0a); at !== -1; i++, at = base.indexOf(0x0a, at + 1)) this.starts[i] = at + 1;
  }

  get size(): number {
    return this.starts.length - 1 + this.added.size;
  }

  has(url: string): boolean {
    return this.added.has(url) || this.baseIndexOf(url) !== -1;
  }

  /** Adds the URL; false when it was already there. */
  add(url: string): boolean {
    if (this.has(url)) return false;
    this.added.add(url);
    return true;
  }

  /** Every URL, sorted, as newline-ended lines: runs of the base copied around the few additions. */
  bytes(): Buffer {
    const parts: Buffer[] = [];
    let copied = 0;
    for (const url of [...this.added].sort()) {
      const at = this.starts[this.insertionIndex(Buffer.from(url))];
      parts.push(this.base.subarray(copied, at), Buffer.from(url + '\n'));
      copied = at;
    }
    parts.push(this.base.subarray(copied));
    return Buffer.concat(parts);
  }

  /** Lines in the snapshot's base (the order that sections aligned with it follow). */
  get baseSize(): number {
    return this.starts.length - 1;
  }

  /** The URL's line number in the base, or -1 when it is not there (it may still be an addition). */
  baseIndexOf(url: string): number {
    const bytes = Buffer.from(url);
    const i = this.insertionIndex(bytes);
    return i < this.baseSize && bytes.compare(this.base, this.starts[i], this.starts[i + 1] - 1) === 0 ? i : -1;
  }

  baseUrlAt(i: number): string {
    return this.base.toString('latin1', this.starts[i], this.starts[i + 1] - 1);
  }

  /**
   * Every URL in the order bytes() writes them: base lines by number (no string made for them), additions by
   * value. Lets a section aligned with this set be rewritten alongside it.
   */
  walk(onBase: (i: number) => void, onAdded: (url: string) => void): void {
    let next = 0;
    for (const url of [...this.added].sort()) {
      const at = this.insertionIndex(Buffer.from(url));
      for (; next < at; next++) onBase(next);
      onAdded(url);
    }
    for (; next < this.baseSize; next++) onBase(next);
  }

  /** The index of the first base line not below `url`. */
  private insertionIndex(url: Buffer): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (url.compare(this.base, this.starts[mid], this.starts[mid + 1] - 1) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
