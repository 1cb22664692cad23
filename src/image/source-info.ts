/**
 * Where an image came from, read from the crawler's manifest (src/collection/manifest.ts). Crawled images live at
 * <rootDir>/img/<sha256>.<ext> with the manifest at <rootDir>/manifest.jsonl, so the rootDir is found from the
 * image path itself. Parsed manifests are kept per instance until the file changes.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { IMAGE_DIR, MANIFEST_FILE } from '../collection/layout';
import { readManifest, type ManifestEntry } from '../collection/manifest';

export type SourceInfo = ManifestEntry;

const manifests = new Map<string, { stamp: string; entries: Map<string, ManifestEntry> }>();

/** The manifest entry for a NAS-relative image path, or undefined when the crawler did not record it. */
export async function imageSourceInfo(root: string, relative: string): Promise<SourceInfo | undefined> {
  const parts = relative.split('/');
  if (parts.length < 2 || parts[parts.length - 2] !== IMAGE_DIR) return undefined;
  const rootDir = path.join(root, ...parts.slice(0, -2));
  let stats;
  try {
    stats = await fs.stat(path.join(rootDir, MANIFEST_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const stamp = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  let cached = manifests.get(rootDir);
  if (!cached || cached.stamp !== stamp) {
    cached = { stamp, entries: await readManifest(rootDir) };
    manifests.set(rootDir, cached);
  }
  return cached.entries.get(`${IMAGE_DIR}/${parts[parts.length - 1]}`);
}
