/**
 * The gallery listing, newest first, one page at a time.
 * - The crawler's collection (a folder holding manifest.jsonl, or its img/ folder) is paged through the
 *   manifest's offset index: a page reads only its own lines, whatever the collection's size.
 * - Any other folder is walked (recursively) up to MAX_SCANNED_FILES files, sorted by modification time. Hidden
 *   entries, the crawler's state folder, the faces sidecars and symlinks are skipped, so the walk never leaves the root and never
 *   offers what the service would refuse to serve.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FACES_DIR, IMAGE_DIR, STATE_DIR } from '../collection/layout';
import { readManifestPage } from '../collection/manifest-index';

export interface GalleryEntry {
  /** NAS-relative, '/'-separated. */
  relative: string;
  absolute: string;
  /** The file's own name. */
  name: string;
  bytes: number;
  mtimeMs: number;
  /** From the crawler's manifest, when the image is in it. */
  sourceUrl?: string;
  width?: number;
  height?: number;
}

export interface GalleryListing {
  entries: GalleryEntry[];
  total: number;
  page: number;
  pages: number;
  truncated: boolean;
  /** Sub-folders that vanished or could not be read during the walk, with the error code. */
  unreadable: Array<{ relative: string; code: string }>;
}

export const PAGE_SIZE = 24;
/** How many files one listing stats at most; NAS metadata calls are slow, and a page must stay quick. */
export const MAX_SCANNED_FILES = 20_000;
const IMAGE_NAME = /\.(jpe?g|png|gif|webp|avif|tiff?|bmp)$/i;

type Folder = { absolute: string; relative: string };

/** The listing of a crawler collection through its index, or undefined when `folder` is not one. */
export async function listCollection(folder: Folder, page: number, pageSize = PAGE_SIZE): Promise<GalleryListing | undefined> {
  const candidates = [folder];
  if (path.basename(folder.absolute) === IMAGE_DIR) candidates.push({ absolute: path.dirname(folder.absolute), relative: folder.relative.split('/').slice(0, -1).join('/') });
  for (const root of candidates) {
    const found = await readManifestPage(root.absolute, page, pageSize);
    if (!found) continue;
    const seen = new Set<string>();
    const entries: GalleryEntry[] = [];
    for (const line of found.lines) {
      // An image found again under another URL has a line of its own; a page shows it once.
      if (seen.has(line.file)) continue;
      seen.add(line.file);
      entries.push({
        relative: root.relative ? `${root.relative}/${line.file}` : line.file,
        absolute: path.join(root.absolute, line.file),
        name: path.basename(line.file),
        bytes: line.bytes,
        mtimeMs: Date.parse(line.savedAt),
        sourceUrl: line.sourceUrl,
        width: line.width,
        height: line.height,
      });
    }
    return { entries, total: found.total, page, pages: Math.ceil(found.total / pageSize), truncated: false, unreadable: [] };
  }
  return undefined;
}

export async function listGallery(folder: Folder, page: number, pageSize = PAGE_SIZE): Promise<GalleryListing> {
  return (await listCollection(folder, page, pageSize)) ?? walkFolder(folder, page, pageSize);
}

async function walkFolder(folder: Folder, page: number, pageSize: number): Promise<GalleryListing> {
  const found: GalleryEntry[] = [];
  const unreadable: GalleryListing['unreadable'] = [];
  let truncated = false;
  const pending: Array<{ absolute: string; relative: string }> = [folder];
  while (pending.length && !truncated) {
    const dir = pending.shift()!;
    let dirents;
    try {
      dirents = await fs.readdir(dir.absolute, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      unreadable.push({ relative: dir.relative, code });
      continue;
    }
    const files = [];
    for (const d of dirents) {
      if (d.name.startsWith('.') || d.isSymbolicLink()) continue;
      const relative = dir.relative ? `${dir.relative}/${d.name}` : d.name;
      const absolute = path.join(dir.absolute, d.name);
      // The faces sidecars at the NAS root hold no images, and may be many.
      if (d.isDirectory() && d.name !== STATE_DIR && relative !== FACES_DIR) pending.push({ absolute, relative });
      else if (d.isFile() && IMAGE_NAME.test(d.name)) files.push({ absolute, relative, name: d.name });
    }
    if (found.length + files.length > MAX_SCANNED_FILES) {
      files.length = MAX_SCANNED_FILES - found.length;
      truncated = true;
    }
    const stats = await Promise.all(files.map((f) => fs.lstat(f.absolute).catch(() => undefined)));
    files.forEach((f, i) => {
      const s = stats[i];
      // A file removed between readdir and lstat is simply not listed.
      if (s?.isFile()) found.push({ ...f, bytes: s.size, mtimeMs: s.mtimeMs });
    });
  }
  found.sort((a, b) => b.mtimeMs - a.mtimeMs || a.relative.localeCompare(b.relative));
  const pages = Math.ceil(found.length / pageSize);
  return { entries: found.slice((page - 1) * pageSize, page * pageSize), total: found.length, page, pages, truncated, unreadable };
}
