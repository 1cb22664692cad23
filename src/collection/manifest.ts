/**
 * The image manifest, `rootDir/manifest.jsonl`: one JSON line each time the crawler meets a new image URL,
 *   {"file":"img/<sha256>.<ext>","sourceUrl":"…","page":"…","width":640,"height":480,"bytes":12345,"savedAt":"ISO"}
 * Identical content found under several URLs shares one file, so a file may have several lines;
 * readManifest merges them. Lines are appended while holding the crawl lease; a reader skips a torn line.
 * A revisit that finds an image URL on no page any more appends a mark {"sourceUrl":"…","goneSince":"ISO"}
 * (and {"sourceUrl":"…","goneSince":null} when it is shown again); the file stays. Marks are not in the index.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE } from './layout';
import { appendIndex, repairIndex } from './manifest-index';


export interface ManifestLine {
  /** Path relative to rootDir: img/<sha256>.<ext>. */
  file: string;
  sourceUrl: string;
  page: string;
  width: number;
  height: number;
  bytes: number;
  savedAt: string;
}

export interface ManifestEntry {
  file: string;
  /** Every URL the content was found under, first seen first. */
  sourceUrls: string[];
  /** The page on which the image was first found. */
  firstPage: string;
  width: number;
  height: number;
  bytes: number;
  savedAt: string;
  /** Set when every URL the content was found under is on no page any more: the latest of their marks. */
  goneSince?: string;
}

/** An image URL vanished from every page (an ISO time), or is shown again (null). */
export interface GoneMark {
  sourceUrl: string;
  goneSince: string | null;
}

export class ManifestWriter {
  private checkedTail = false;

  constructor(private readonly rootDir: string) {}

  async append(lines: ManifestLine[], marks: GoneMark[] = []): Promise<void> {
    if (lines.length === 0 && marks.length === 0) return;
    const file = path.join(this.rootDir, MANIFEST_FILE);
    // A kill mid-append may have left a torn last line: start on a fresh line so the new ones stay whole.
    const prefix = this.checkedTail ? '' : await newlineNeeded(file);
    if (!this.checkedTail) await repairIndex(this.rootDir);
    this.checkedTail = true;
    const texts = lines.map((l) => JSON.stringify(l) + '\n');
    const offsets: number[] = [];
    // Synced before the journal marks the image handled, so a crash cannot leave a saved image unlisted.
    const handle = await fs.open(file, 'a', 0o644);
    try {
      let offset = (await handle.stat()).size + Buffer.byteLength(prefix);
      for (const text of texts) {
        offsets.push(offset);
        offset += Buffer.byteLength(text);
      }
      await handle.write(prefix + texts.join('') + marks.map((m) => JSON.stringify(m) + '\n').join(''));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    // After the manifest: a crash in between leaves the index behind, which the next writer repairs.
    await appendIndex(this.rootDir, offsets);
  }
}

async function newlineNeeded(file: string): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return '';
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] === 0x0a ? '' : '\n';
  } finally {
    await handle.close();
  }
}

function isManifestLine(value: unknown): value is ManifestLine {
  const v = value as ManifestLine;
  return typeof v === 'object' && v !== null && typeof v.file === 'string' && /^img\/[0-9a-f]{64}\.[a-z]+$/.test(v.file) && typeof v.sourceUrl === 'string';
}

/** One manifest line, or undefined for an empty, torn or invalid one. */
export function parseManifestLine(text: string): ManifestLine | undefined {
  const value = parseJson(text);
  return isManifestLine(value) ? value : undefined;
}

/** A torn or empty line is undefined, like any value that is not what the caller checks for. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads the manifest into file -> entry (keyed by the `img/…` path); an absent manifest is an empty map. */
export async function readManifest(rootDir: string): Promise<Map<string, ManifestEntry>> {
  let lines: string;
  try {
    lines = await fs.readFile(path.join(rootDir, MANIFEST_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
  const entries = new Map<string, ManifestEntry>();
  const gone = new Map<string, string | null>();
  for (const text of lines.split('\n')) {
    const value = parseManifestLine(text);
    if (!value) {
      const mark = parseGoneMark(text);
      if (mark) gone.set(mark.sourceUrl, mark.goneSince);
      continue;
    }
    const entry = entries.get(value.file);
    if (!entry) {
      const { sourceUrl, page, ...rest } = value;
      entries.set(value.file, { ...rest, sourceUrls: [sourceUrl], firstPage: page });
    } else if (!entry.sourceUrls.includes(value.sourceUrl)) {
      entry.sourceUrls.push(value.sourceUrl);
    }
  }
  for (const entry of entries.values()) {
    const since = entry.sourceUrls.map((url) => gone.get(url));
    if (since.every((s): s is string => typeof s === 'string')) entry.goneSince = since.sort().at(-1);
  }
  return entries;
}

function parseGoneMark(text: string): GoneMark | undefined {
  const v = parseJson(text) as GoneMark;
  const ok = typeof v === 'object' && v !== null && !('file' in v) && typeof v.sourceUrl === 'string' && (v.goneSince === null || typeof v.goneSince === 'string');
  return ok ? v : undefined;
}
