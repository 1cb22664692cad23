/**
 * A crash-safe, compact store of line-oriented state on the NAS: a snapshot plus an append-only journal.
 *
 * - `snapshot.<g>`: a checksummed header line, a JSON meta line, then named sections of lines. Written whole
 *   by temp file + rename, so it is either absent or complete; the checksum catches later damage.
 * - `journal.<g>`: the lines appended since `snapshot.<g>`. A torn last line (a kill mid-append) is dropped, and
 *   cut off before the next append, so it can never be completed into a line that was not written.
 * Compaction writes `snapshot.<g+1>` and keeps generation g, so a damaged newest snapshot is recovered from
 * `snapshot.<g>` + `journal.<g>` + `journal.<g+1>`; it never silently restarts from scratch.
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
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
const FILE = /^(snapshot|journal)\.(\d+)$/;

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

/** Splits a journal into whole lines; a last line without its newline was torn by a kill and is dropped. */
function journalLines(text: string): { lines: string[]; wholeLength: number | null } {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  const wholeLength = last === '' ? null : Buffer.byteLength(text) - Buffer.byteLength(last);
  return { lines: lines.filter((l) => l !== '' && !l.includes('\0')), wholeLength };
}

export class StateStore {
  private generation = 0;
  private journal: fs.FileHandle | null = null;
  /** Set when the journal ends in a torn line: the length of its whole lines, to cut it back to before appending. */
  private wholeLength: number | null = null;

  constructor(
    readonly dir: string,
    private readonly tempDir: string,
  ) {}

  async load(): Promise<LoadedState> {
    await fs.mkdir(this.dir, { recursive: true });
    const snapshots: number[] = [];
    const journals: number[] = [];
    for (const name of await fs.readdir(this.dir)) {
      const m = FILE.exec(name);
      if (m) (m[1] === 'snapshot' ? snapshots : journals).push(Number(m[2]));
    }
    snapshots.sort((a, b) => b - a);
    this.wholeLength = null;
    const warnings: string[] = [];
    let base = 0;
    let snapshot: StoredSnapshot | null = null;
    let snapshotBytes = 0;
    for (const g of snapshots) {
      // One synchronous read: fs.promises.readFile reads big files in small chunks, several times slower.
      const bytes = readFileSync(this.file('snapshot', g));
      try {
        snapshot = decodeSnapshot(bytes);
        base = g;
        snapshotBytes = bytes.length;
        break;
      } catch (e) {
        warnings.push(`snapshot.${g} is damaged (${(e as Error).message}); recovering from an older generation`);
      }
    }
    if (snapshots.length > 0 && snapshot === null) throw new StateCorruptError(`every snapshot in ${this.dir} is damaged`);
    if (snapshot !== null && base !== snapshots[0] && !journals.includes(base)) {
      throw new StateCorruptError(`snapshot.${snapshots[0]} is damaged and journal.${base} needed to recover it is missing`);
    }

    this.generation = Math.max(base, ...snapshots, ...journals);
    const journal: string[] = [];
    let journalBytes = 0;
    for (const g of journals.filter((j) => j >= base).sort((a, b) => a - b)) {
      const text = readFileSync(this.file('journal', g), 'utf8');
      const { lines, wholeLength } = journalLines(text);
      if (wholeLength !== null) warnings.push(`journal.${g} ends with a torn line (an interrupted append); it was dropped`);
      if (g === this.generation) {
        this.wholeLength = wholeLength;
        journalBytes = text.length;
      }
      for (const line of lines) journal.push(line);
    }
    return { generation: this.generation, snapshot, journal, journalBytes, snapshotBytes, warnings };
  }

  /** Appends whole lines and syncs them, so a later kill cannot lose them. */
  async append(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    this.journal ??= await fs.open(this.file('journal', this.generation), 'a', 0o644);
    if (this.wholeLength !== null) {
      await this.journal.truncate(this.wholeLength);
      this.wholeLength = null;
    }
    await this.journal.write(lines.join('\n') + '\n');
    await this.journal.datasync();
  }

  /** Replaces snapshot + journal by one new snapshot of the whole state, then drops generations older than the previous. */
  async compact(snapshot: Snapshot): Promise<void> {
    await this.close();
    const next = this.generation + 1;
    await writeFileAtomic(this.file('snapshot', next), encodeSnapshot(next, snapshot), this.tempDir);
    const previous = this.generation;
    this.generation = next;
    this.wholeLength = null;
    for (const name of await fs.readdir(this.dir)) {
      const m = FILE.exec(name);
      if (m && Number(m[2]) < previous) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }

  async close(): Promise<void> {
    const handle = this.journal;
    this.journal = null;
    await handle?.close();
  }

  private file(kind: 'snapshot' | 'journal', generation: number): string {
    return path.join(this.dir, `${kind}.${generation}`);
  }
}
