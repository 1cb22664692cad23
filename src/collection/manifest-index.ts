/**
 * The manifest's offset index, `rootDir/manifest.idx`: the byte offset of every manifest line, in save order,
 * as 8-byte big-endian integers. The crawler's ManifestWriter appends to it after each manifest append, so the
 * gallery reads a page, newest first, with a fixed number of file-system calls whatever the collection's size:
 * one read of the page's index records and one read of the page's (contiguous) manifest lines.
 *
 * Crash safety: the index is written after the manifest, so a crash leaves it behind the manifest (those newest
 * lines are missing from the gallery until the next append) or with a torn last record (ignored by readers).
 * The writer repairs both before its first append: it cuts a torn record and indexes the image lines of the
 * manifest's tail from the last indexed line on (gone marks, see manifest.ts, are not in the index). An existing collection without an index gets one on its first append the same way.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { INDEX_FILE, MANIFEST_FILE } from './layout';
import { parseManifestLine, type ManifestLine } from './manifest';

const RECORD = 8;
const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

async function openIfExists(file: string, flags: string): Promise<fs.FileHandle | undefined> {
  try {
    return await fs.open(file, flags);
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** Appends the offsets of newly written manifest lines. */
export async function appendIndex(rootDir: string, offsets: number[]): Promise<void> {
  if (offsets.length === 0) return;
  const records = Buffer.alloc(offsets.length * RECORD);
  offsets.forEach((offset, i) => records.writeBigUInt64BE(BigInt(offset), i * RECORD));
  await fs.appendFile(path.join(rootDir, INDEX_FILE), records, { mode: 0o644 });
}

/** Brings the index level with the manifest (see the file comment); run by the writer before its first append. */
export async function repairIndex(rootDir: string): Promise<void> {
  const manifest = await openIfExists(path.join(rootDir, MANIFEST_FILE), 'r');
  if (!manifest) return;
  const index = await fs.open(path.join(rootDir, INDEX_FILE), 'a+', 0o644);
  try {
    const { size: indexSize } = await index.stat();
    const whole = indexSize - (indexSize % RECORD);
    if (whole !== indexSize) await index.truncate(whole);
    let from = 0;
    if (whole > 0) {
      const last = Buffer.alloc(RECORD);
      await index.read(last, 0, RECORD, whole - RECORD);
      from = Number(last.readBigUInt64BE(0));
    }
    const { size } = await manifest.stat();
    if (from >= size) return;
    const tail = Buffer.alloc(size - from);
    await manifest.read(tail, 0, tail.length, from);
    // Line starts after `from` (the last indexed line itself is already in, unless the index was empty). Only image
    // lines are indexed: not gone marks, nor a torn line.
    const starts = whole === 0 ? [0] : [];
    for (let i = tail.indexOf(0x0a); i !== -1 && i + 1 < tail.length; i = tail.indexOf(0x0a, i + 1)) starts.push(i + 1);
    const lines = starts.filter((start) => {
      const end = tail.indexOf(0x0a, start);
      return parseManifestLine(tail.toString('utf8', start, end === -1 ? tail.length : end)) !== undefined;
    });
    await appendIndex(rootDir, lines.map((start) => from + start));
  } finally {
    await Promise.all([manifest.close(), index.close()]);
  }
}

export interface IndexedLine extends ManifestLine {
  /** Position in save order, 0 for the first line ever saved. */
  seq: number;
}

export interface ManifestPage {
  lines: IndexedLine[];
  /** Lines in the index (each a saved image URL). */
  total: number;
}

/**
 * Page `page` (from 1) of the manifest, newest first, through the index; undefined when there is no index.
 * Torn or invalid lines are skipped, so a page may hold fewer than `pageSize`.
 */
export async function readManifestPage(rootDir: string, page: number, pageSize: number): Promise<ManifestPage | undefined> {
  const index = await openIfExists(path.join(rootDir, INDEX_FILE), 'r');
  if (!index) return undefined;
  let offsets: number[];
  let total: number;
  let firstSeq: number;
  let pageLines: number;
  try {
    total = Math.floor((await index.stat()).size / RECORD);
    const newest = total - 1 - (page - 1) * pageSize;
    firstSeq = Math.max(0, newest - pageSize + 1);
    pageLines = newest - firstSeq + 1;
    if (newest < 0) return { lines: [], total };
    // One more record than the page, when there is one, marks where the page's last line ends.
    const count = Math.min(newest + 2, total) - firstSeq;
    const records = Buffer.alloc(count * RECORD);
    await index.read(records, 0, records.length, firstSeq * RECORD);
    offsets = Array.from({ length: count }, (_, i) => Number(records.readBigUInt64BE(i * RECORD)));
  } finally {
    await index.close();
  }
  const manifest = await fs.open(path.join(rootDir, MANIFEST_FILE), 'r');
  try {
    const end = offsets.length > pageLines ? offsets[pageLines] : (await manifest.stat()).size;
    const span = Buffer.alloc(Math.max(0, end - offsets[0]));
    await manifest.read(span, 0, span.length, offsets[0]);
    const lines: IndexedLine[] = [];
    for (let i = 0; i < pageLines; i++) {
      // Up to the line's own newline: after an indexed line may lie lines the index does not hold (gone marks, or
      // lines the index does not have yet).
      const start = offsets[i] - offsets[0];
      const newline = span.indexOf(0x0a, start);
      const next = i + 1 < offsets.length ? offsets[i + 1] - offsets[0] : span.length;
      const stop = newline === -1 ? next : Math.min(newline, next);
      const line = parseManifestLine(span.toString('utf8', start, stop));
      if (line) lines.push({ ...line, seq: firstSeq + i });
    }
    return { lines: lines.reverse(), total };
  } finally {
    await manifest.close();
  }
}
