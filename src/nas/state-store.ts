/**
 * A crash-safe, compact store of line-oriented state on the NAS: a snapshot plus journal segments, one per writer.
 *
 * - `snapshot.<g>`: a checksummed header line, a JSON meta line, then named sections of lines. Written whole
 *   by temp file + link (never replacing an existing one), so it is either absent or complete; the checksum
 *   catches later damage. Read as one Buffer (never one string): sections stay bytes until the caller parses them.
 * - `journal.<g>.<lease>`: the lines that the holder of lease number `lease` appended while generation g was
 *   current. Only that holder writes it, so two NAS clients never append to one file.
 * - `journal.<g>.<lease>.<bytes>`: the same segment, sealed by the next holder that read it: it renames the file to
 *   record the length it read, and every later load reads only that many bytes. A stale holder's late appends
 *   land past the seal (or in a segment created after a later holder loaded) and are ignored. A torn last line
 *   (a kill mid-append) is dropped the same way. `journal.<g>` (the previous layout) is read as lease 0.
 * Journals are streamed line by line, never read into one string. Compaction writes `snapshot.<g+1>` and keeps
 * generation g, so a damaged newest snapshot is recovered from `snapshot.<g>` (or from nothing, for g = 0) plus
 * the journals of both generations; it never silently restarts from scratch. See docs/reliability.md.
 */
import { createReadStream, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { crc32 } from './crc32';
import { writeFileAtomic } from './atomic-write';

/** What a snapshot holds: a JSON meta object and named sections of lines (given as lines or as newline-ended bytes). */
export interface Snapshot {
  meta: Record<string, unknown>;
  sections: Record<string, string[] | Buffer>;
}

/** A snapshot as read back: each section is its raw newline-ended bytes, so a big one costs no string per line. */
export interface StoredSnapshot {
  meta: Record<string, unknown>;
  sections: Record<string, Buffer>;
}

/** The lines of a section read back (for sections small enough to want as strings). */
export function sectionLines(section: Buffer | undefined): string[] {
  if (!section || section.length === 0) return [];
  return section.toString('utf8', 0, section.length - 1).split('\n');
}

export interface LoadedState {
  generation: number;
  /** Null when no snapshot was ever written. */
  snapshot: StoredSnapshot | null;
  journal: string[];
  journalBytes: number;
  snapshotBytes: number;
  /** Damage that was detected and worked around (a bad snapshot, a torn line). */
  warnings: string[];
}

export class StateCorruptError extends Error {}

const MAGIC = 'fc-nas-images-snapshot v2';
const SNAPSHOT = /^snapshot\.(\d+)$/;
const JOURNAL = /^journal\.(\d+)(?:\.(\d+)(?:\.(\d+))?)?$/;

function checksum(body: Buffer): string {
  return crc32(body).toString(16).padStart(8, '0');
}

/** Header line, meta line, then per section a line `@name<TAB>byteLength` and that many bytes of lines. */
export function encodeSnapshot(generation: number, snapshot: Snapshot): Buffer {
  const parts: Buffer[] = [Buffer.from(JSON.stringify(snapshot.meta) + '\n')];
  for (const [name, section] of Object.entries(snapshot.sections)) {
    const bytes = Buffer.isBuffer(section) ? section : Buffer.from(section.length ? section.join('\n') + '\n' : '');
    parts.push(Buffer.from(`@${name}\t${bytes.length}\n`), bytes);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(`${MAGIC} ${generation} ${body.length} ${checksum(body)}\n`), body]);
}

/** Throws StateCorruptError when the bytes are not a whole, intact snapshot. */
export function decodeSnapshot(bytes: Buffer): StoredSnapshot {
  const headerEnd = bytes.indexOf(0x0a);
  const header = bytes.subarray(0, Math.max(0, headerEnd)).toString('latin1').split(' ');
  const body = bytes.subarray(headerEnd + 1);
  if (headerEnd < 0 || `${header[0]} ${header[1]}` !== MAGIC) throw new StateCorruptError('not a snapshot file');
  if (Number(header[3]) !== body.length || header[4] !== checksum(body)) throw new StateCorruptError('checksum mismatch');
  let end = body.indexOf(0x0a);
  const meta = JSON.parse(body.toString('utf8', 0, end)) as Record<string, unknown>;
  const sections: Record<string, Buffer> = {};
  for (let at = end + 1; at < body.length; ) {
    end = body.indexOf(0x0a, at);
    const [tag, size] = body.toString('utf8', at, end).split('\t');
    const n = Number(size);
    if (!tag.startsWith('@') || !Number.isInteger(n) || end + 1 + n > body.length) throw new StateCorruptError(`bad section header at byte ${at}`);
    sections[tag.slice(1)] = body.subarray(end + 1, end + 1 + n);
    at = end + 1 + n;
  }
  return { meta, sections };
}

/** The writer a store appends for: its lease number orders and fences its segment; once `lost`, it must not write. */
export interface WriterFence {
  readonly number: number;
  readonly lost: boolean;
}

export class LeaseLostError extends Error {}

interface Segment {
  name: string;
  generation: number;
  lease: number;
  /** The seal: how many bytes of it count; null while unsealed. */
  sealedBytes: number | null;
}

function parseSegment(name: string): Segment | null {
  const m = JOURNAL.exec(name);
  if (!m) return null;
  return { name, generation: Number(m[1]), lease: m[2] === undefined ? 0 : Number(m[2]), sealedBytes: m[3] === undefined ? null : Number(m[3]) };
}

/** Streams the first `length` bytes of a file as whole lines; returns true when a torn last line was dropped. */
async function readLines(file: string, length: number, into: string[]): Promise<boolean> {
  if (length === 0) return false;
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1 << 20 })) {
    const parts = (rest + decoder.write(chunk as Buffer)).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) if (line !== '' && !line.includes('\0')) into.push(line);
  }
  rest += decoder.end();
  return rest !== '';
}

/** Compact when the journal outgrows max(1 MB, half the snapshot), or has this many segments (files to open per load). */
const COMPACT_MIN_BYTES = 1024 * 1024;
const COMPACT_SEGMENTS = 16;

export class StateStore {
  private generation = 0;
  /** This writer's lease number; without a fence, one above every segment found (a single writer, as in tests). */
  private writer = 0;
  private journal: fs.FileHandle | null = null;
  /** Bytes of this writer's segment known whole; a failed append leaves the rest to be cut off. */
  private journalLength = 0;
  private journalTorn = false;
  private lastLoad = { journalBytes: 0, snapshotBytes: 0, segments: 0 };

  constructor(
    readonly dir: string,
    private readonly tempDir: string,
    private readonly fence?: WriterFence,
  ) {}

  async load(): Promise<LoadedState> {
    await this.close();
    await fs.mkdir(this.dir, { recursive: true });
    const names = await fs.readdir(this.dir);
    const snapshots: number[] = [];
    const segments: Segment[] = [];
    for (const name of names) {
      const m = SNAPSHOT.exec(name);
      if (m) snapshots.push(Number(m[1]));
      const segment = parseSegment(name);
      if (segment) segments.push(segment);
    }
    snapshots.sort((a, b) => b - a);
    const newestWriter = Math.max(0, ...segments.map((s) => s.lease));
    this.writer = this.fence?.number ?? newestWriter + 1;
    if (newestWriter >= this.writer && newestWriter > 0) {
      throw new LeaseLostError(`journal segments of lease ${newestWriter} exist, not older than this lease ${this.writer}: a newer holder wrote the state`);
    }
    const warnings: string[] = [];
    const { base, snapshot, snapshotBytes } = this.chooseBase(snapshots, segments, warnings);

    this.generation = Math.max(base, ...snapshots, ...segments.map((s) => s.generation));
    this.journalLength = 0;
    this.journalTorn = false;
    const journal: string[] = [];
    let journalBytes = 0;
    let currentSegments = 0;
    const replay = segments.filter((s) => s.generation >= base).sort((a, b) => a.generation - b.generation || a.lease - b.lease);
    for (const segment of replay) {
      if (this.isLate(segment, replay)) {
        warnings.push(`${segment.name} was written by a holder that had lost its lease; ignored`);
        await fs.rm(path.join(this.dir, segment.name), { force: true });
        continue;
      }
      const length = segment.sealedBytes ?? (await this.seal(segment));
      if (await readLines(path.join(this.dir, segment.name), length, journal)) {
        warnings.push(`${segment.name} ends with a torn line (an interrupted append); it was dropped`);
      }
      if (segment.generation === this.generation) {
        journalBytes += length;
        currentSegments++;
      }
    }
    this.lastLoad = { journalBytes, snapshotBytes, segments: currentSegments };
    return { generation: this.generation, snapshot, journal, journalBytes, snapshotBytes, warnings };
  }

  /** After load(): whether the journal has grown enough that a new snapshot would make the next loads cheaper. */
  compactionDue(): boolean {
    const { journalBytes, snapshotBytes, segments } = this.lastLoad;
    return journalBytes > Math.max(COMPACT_MIN_BYTES, snapshotBytes / 2) || segments >= COMPACT_SEGMENTS;
  }

  /** Appends whole lines to this writer's own segment and syncs them, so a later kill cannot lose them. */
  async append(lines: string[]): Promise<void> {
    await this.write(lines);
    await this.sync();
  }

  /**
   * Appends whole lines to this writer's own segment without syncing them: once written they outlive the process
   * (a crash or a kill), not the machine. `sync()` makes every line written so far durable.
   */
  async write(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    this.checkFence();
    this.journal ??= await fs.open(this.file('journal', this.generation, this.writer), 'a', 0o644);
    if (this.journalTorn) {
      await this.journal.truncate(this.journalLength);
      this.journalTorn = false;
    }
    const bytes = Buffer.from(lines.join('\n') + '\n');
    try {
      await this.journal.write(bytes);
    } catch (e) {
      this.journalTorn = true;
      throw e;
    }
    this.journalLength += bytes.length;
  }

  async sync(): Promise<void> {
    await this.journal?.datasync();
  }

  /** Replaces snapshot + journal by one new snapshot of the whole state, then drops generations older than the previous. */
  async compact(snapshot: Snapshot): Promise<void> {
    this.checkFence();
    await this.close();
    // Sealed like any other, so recovery from the previous generation reads exactly what this snapshot holds. A
    // generation with no segment at all (a first run's compaction) gets an empty sealed one: its journal was empty,
    // not lost, so a damaged snapshot.<g+1> can still be rebuilt from it.
    const own = this.file('journal', this.generation, this.writer);
    if (this.journalLength > 0) await fs.rename(own, `${own}.${this.journalLength}`);
    else if (!(await fs.readdir(this.dir)).some((name) => parseSegment(name)?.generation === this.generation)) await fs.writeFile(`${own}.0`, '');
    const next = this.generation + 1;
    await writeFileAtomic(this.file('snapshot', next), encodeSnapshot(next, snapshot), this.tempDir, { replace: false });
    const previous = this.generation;
    this.generation = next;
    this.journalLength = 0;
    this.journalTorn = false;
    for (const name of await fs.readdir(this.dir)) {
      const generation = SNAPSHOT.exec(name)?.[1] ?? parseSegment(name)?.generation;
      if (generation !== undefined && Number(generation) < previous) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }

  async close(): Promise<void> {
    const handle = this.journal;
    this.journal = null;
    await handle?.close();
  }

  /** The newest snapshot that is intact, or the one before it (or the empty state before generation 1). */
  private chooseBase(snapshots: number[], segments: Segment[], warnings: string[]): { base: number; snapshot: StoredSnapshot | null; snapshotBytes: number } {
    if (snapshots.length === 0) return { base: 0, snapshot: null, snapshotBytes: 0 };
    const newest = snapshots[0];
    const read = (g: number) => {
      const bytes = readFileSync(this.file('snapshot', g)); // one read: fs.promises.readFile reads big files in small chunks
      return { base: g, snapshot: decodeSnapshot(bytes), snapshotBytes: bytes.length };
    };
    try {
      return read(newest);
    } catch (e) {
      if (!(e instanceof StateCorruptError)) throw e;
      warnings.push(`snapshot.${newest} is damaged (${e.message}); recovering from the generation before it`);
    }
    const previous = newest - 1;
    if (!segments.some((s) => s.generation === previous)) {
      throw new StateCorruptError(`snapshot.${newest} in ${this.dir} is damaged and journal.${previous} needed to recover it is missing`);
    }
    if (previous === 0) return { base: 0, snapshot: null, snapshotBytes: 0 };
    if (!snapshots.includes(previous)) throw new StateCorruptError(`snapshot.${newest} in ${this.dir} is damaged and snapshot.${previous} needed to recover it is missing`);
    try {
      return read(previous);
    } catch (e) {
      if (e instanceof StateCorruptError) throw new StateCorruptError(`every snapshot in ${this.dir} is damaged`);
      throw e;
    }
  }

  /**
   * A segment that appeared after a later holder loaded: that holder sealed every segment it saw, and a compaction
   * seals its whole generation, so an unsealed one older than them was written by a holder past its lease.
   */
  private isLate(segment: Segment, all: Segment[]): boolean {
    if (segment.sealedBytes !== null || segment.lease === 0) return false;
    if (segment.generation < this.generation) return true;
    return all.some((s) => s.generation === segment.generation && s.lease > segment.lease && s.lease !== this.writer);
  }

  /** Seals another writer's segment at its current length; when someone sealed it first, their length counts. */
  private async seal(segment: Segment): Promise<number> {
    const file = path.join(this.dir, segment.name);
    const length = (await fs.stat(file)).size;
    const sealedName = `journal.${segment.generation}.${segment.lease}.${length}`;
    try {
      await fs.rename(file, path.join(this.dir, sealedName));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const sealed = (await fs.readdir(this.dir)).map(parseSegment).find((s) => s?.generation === segment.generation && s.lease === segment.lease && s.sealedBytes !== null);
      if (!sealed) throw new StateCorruptError(`${segment.name} vanished while it was being sealed`);
      segment.name = sealed.name;
      return sealed.sealedBytes!;
    }
    segment.name = sealedName;
    return length;
  }

  private checkFence(): void {
    if (this.fence?.lost) throw new LeaseLostError('the lease was lost: another invocation may own the state, nothing more is written');
  }

  private file(kind: 'snapshot' | 'journal', generation: number, lease?: number): string {
    return path.join(this.dir, lease === undefined ? `${kind}.${generation}` : `${kind}.${generation}.${lease}`);
  }
}
