/**
 * When each visited page is due for its next visit, and what the last visit saw: the interval, a hash of the
 * page's links and images, its validators (ETag, Last-Modified) and its image URLs (to notice an image that
 * vanished from every page).
 *
 * Sized for a million pages: the snapshot keeps the records aligned with the history's sorted lines, so no URL is
 * stored twice. `revisitTimes` is binary, RECORD bytes per history line (all zero: no record), which point into
 * `revisitTags` (the ETags, one per line, only for pages that sent one); `revisitImages` has a line `n<TAB>image…`
 * only for lines with images. Loading parses nothing per page: records are read from the bytes when asked for.
 * Records written since the snapshot (journal `N` lines) live in a small map in front.
 */
import type { UrlSet } from './url-set';

export interface PageRecord {
  /** Epoch seconds of the next visit; 0 for a page that is not revisited (gone, excluded). */
  due: number;
  /** Seconds between visits, adapted after each visit. */
  interval: number;
  /** Epoch seconds of the last visit. */
  visited: number;
  /** 16 hex digits: a hash of the sorted links and images; empty when not known yet. */
  hash: string;
  /** Last-Modified as epoch seconds, 0 when none. */
  lastModified: number;
  etag: string;
  /** Image URLs the page showed at its last visit. */
  images: string[];
}

/** What a snapshot stores for the records (beside the history they are aligned with). */
export interface RevisitSections {
  revisitTimes: Buffer;
  revisitTags: Buffer;
  revisitImages: Buffer;
}

/** due, interval, visited, lastModified (uint32 each), hash (8 bytes), ETag offset in revisitTags + 1 (0: none). */
const RECORD = 28;
const HASH = /^([0-9a-f]{16})?$/;
const NL = 0x0a;

export const isPageHash = (s: string): boolean => HASH.test(s);

export class RevisitTable {
  /** Records written since the snapshot, by URL; those of base lines also by line number. */
  private readonly recent = new Map<string, PageRecord>();
  private readonly recentByLine = new Map<number, PageRecord>();
  private readonly times: Buffer;
  private imageLines: Uint32Array | null = null;
  /** False when the sections given to the constructor did not fit the history (damage) and were not used. */
  readonly loaded: boolean;

  /**
   * `history` is the set the sections were aligned with when written. Sections that do not fit it (damage, or a
   * state from before revisits) are ignored: their pages are then scheduled again as links find them.
   */
  constructor(
    private readonly history: UrlSet,
    private readonly sections: RevisitSections = { revisitTimes: Buffer.alloc(0), revisitTags: Buffer.alloc(0), revisitImages: Buffer.alloc(0) },
  ) {
    // Empty sections: no page had a record when the snapshot was written (refresh off, or an older state).
    const none = sections.revisitTimes.length === 0;
    const fits = !none && sections.revisitTimes.length === history.baseSize * RECORD;
    this.loaded = none || fits;
    this.times = fits ? sections.revisitTimes : Buffer.alloc(0);
    if (!fits) this.sections = { revisitTimes: Buffer.alloc(0), revisitTags: Buffer.alloc(0), revisitImages: Buffer.alloc(0) };
  }


  get(url: string): PageRecord | undefined {
    const recent = this.recent.get(url);
    if (recent) return recent;
    const line = this.history.baseIndexOf(url);
    return line === -1 ? undefined : this.baseRecord(line);
  }

  set(url: string, record: PageRecord): void {
    this.recent.set(url, record);
    const line = this.history.baseIndexOf(url);
    if (line !== -1) this.recentByLine.set(line, record);
  }

  /** Pages due at `now` (epoch s), earliest first, at most `limit`; and the earliest due time of all, 0 for none. */
  due(now: number, limit: number, skip: (url: string) => boolean): { pages: { url: string; record: PageRecord }[]; nextDue: number } {
    let nextDue = 0;
    const dueLines: number[] = [];
    for (let line = 0, at = 0; at < this.times.length; line++, at += RECORD) {
      const due = this.times.readUInt32LE(at);
      if (due === 0 || this.recentByLine.has(line)) continue;
      if (nextDue === 0 || due < nextDue) nextDue = due;
      if (due <= now) dueLines.push(line);
    }
    const pages: { url: string; record: PageRecord }[] = [];
    for (const [url, record] of this.recent) {
      if (record.due === 0) continue;
      if (nextDue === 0 || record.due < nextDue) nextDue = record.due;
      if (record.due <= now && !skip(url)) pages.push({ url, record });
    }
    dueLines.sort((a, b) => this.times.readUInt32LE(a * RECORD) - this.times.readUInt32LE(b * RECORD));
    // Only the earliest few are made into records: the rest stay bytes.
    for (const line of dueLines.slice(0, limit + pages.length)) {
      const url = this.history.baseUrlAt(line);
      if (!skip(url)) pages.push({ url, record: this.baseRecord(line)! });
    }
    pages.sort((a, b) => a.record.due - b.record.due);
    return { pages: pages.slice(0, limit), nextDue };
  }

  /**
   * History lines without a record: pages visited before revisits were on (or with them off). Counted, not walked:
   * every record is of a URL in the history, so the additions since the snapshot without one are the additions
   * less the records made for them.
   */
  unrecorded(): number {
    const hasRecord = (line: number) => line * RECORD < this.times.length && this.times.readUInt32LE(line * RECORD + 4) !== 0;
    let count = 0;
    for (let line = 0; line < this.history.baseSize; line++) if (!hasRecord(line)) count++;
    for (const line of this.recentByLine.keys()) if (!hasRecord(line)) count--;
    return count + (this.history.size - this.history.baseSize) - (this.recent.size - this.recentByLine.size);
  }

  /** True when some page's last visit showed this image URL. */
  showsImage(src: string): boolean {
    for (const record of this.recent.values()) if (record.images.includes(src)) return true;
    const images = this.sections.revisitImages;
    const needle = Buffer.from(`\t${src}`);
    for (let at = images.indexOf(needle); at !== -1; at = images.indexOf(needle, at + 1)) {
      const end = at + needle.length;
      if (images[end] !== NL && images[end] !== 0x09) continue;
      // The line's number, at its start, tells whether a newer record replaced it.
      const lineStart = images.lastIndexOf(NL, at) + 1;
      const line = Number(images.toString('latin1', lineStart, images.indexOf(0x09, lineStart)));
      if (!this.recentByLine.has(line)) return true;
    }
    return false;
  }

  /** The sections for a snapshot whose history is `history` (this table's set, with its additions merged). */
  toSections(): RevisitSections {
    if (this.recent.size === 0 && this.times.length === 0) return { revisitTimes: Buffer.alloc(0), revisitTags: Buffer.alloc(0), revisitImages: Buffer.alloc(0) };
    const lines = this.history.size;
    const times = Buffer.alloc(lines * RECORD);
    const tags: string[] = [];
    let tagBytes = 0;
    const images: string[] = [];
    let n = 0;
    const write = (record: PageRecord | undefined) => {
      if (record) {
        const at = n * RECORD;
        times.writeUInt32LE(record.due, at);
        times.writeUInt32LE(record.interval, at + 4);
        times.writeUInt32LE(record.visited, at + 8);
        times.writeUInt32LE(record.lastModified, at + 12);
        if (record.hash) times.write(record.hash, at + 16, 'hex');
        if (record.etag) {
          times.writeUInt32LE(tagBytes + 1, at + 24);
          tags.push(record.etag);
          tagBytes += Buffer.byteLength(record.etag) + 1;
        }
        if (record.images.length > 0) images.push(`${n}\t${record.images.join('\t')}`);
      }
      n++;
    };
    this.history.walk(
      (line) => write(this.recentByLine.get(line) ?? this.baseRecord(line)),
      (url) => write(this.recent.get(url)),
    );
    return {
      revisitTimes: times,
      revisitTags: Buffer.from(tags.length ? tags.join('\n') + '\n' : ''),
      revisitImages: Buffer.from(images.length ? images.join('\n') + '\n' : ''),
    };
  }

  private baseRecord(line: number): PageRecord | undefined {
    const at = line * RECORD;
    if (at >= this.times.length) return undefined;
    const interval = this.times.readUInt32LE(at + 4);
    if (interval === 0) return undefined;
    const hashBytes = this.times.subarray(at + 16, at + 24);
    return {
      due: this.times.readUInt32LE(at),
      interval,
      visited: this.times.readUInt32LE(at + 8),
      lastModified: this.times.readUInt32LE(at + 12),
      hash: hashBytes.every((b) => b === 0) ? '' : hashBytes.toString('hex'),
      etag: this.tagAt(line),
      images: this.imagesAt(line),
    };
  }

  private tagAt(line: number): string {
    const ref = this.times.readUInt32LE(line * RECORD + 24);
    if (ref === 0) return '';
    const tags = this.sections.revisitTags;
    return tags.toString('utf8', ref - 1, tags.indexOf(NL, ref - 1));
  }

  private imagesAt(line: number): string[] {
    const images = this.sections.revisitImages;
    if (images.length === 0) return [];
    this.imageLines ??= lineStarts(images);
    const starts = this.imageLines;
    // Binary search on the line number that starts each line.
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const n = Number(images.toString('latin1', starts[mid], images.indexOf(0x09, starts[mid])));
      if (n === line) return images.toString('utf8', starts[mid], starts[mid + 1] - 1).split('\t').slice(1);
      if (n < line) lo = mid + 1;
      else hi = mid;
    }
    return [];
  }
}

/** Start offset of each line, plus one past the end. */
function lineStarts(bytes: Buffer): Uint32Array {
  let count = 0;
  for (let at = bytes.indexOf(NL); at !== -1; at = bytes.indexOf(NL, at + 1)) count++;
  const starts = new Uint32Array(count + 1);
  for (let i = 1, at = bytes.indexOf(NL); at !== -1; i++, at = bytes.indexOf(NL, at + 1)) starts[i] = at + 1;
  return starts;
}
