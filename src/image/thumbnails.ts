/**
 * Gallery thumbnails made with sharp: at most 160 px, WebP (small, keeps transparency, read by every current
 * browser). Kept per instance in an LRU keyed by path, size and mtime; a file that cannot be previewed gets its
 * reason instead, so one bad file never breaks the gallery.
 */
import sharp from 'sharp';
import { Semaphore } from '../util/semaphore';
import { err, ok, type Result } from '../result';
import type { GalleryEntry } from './gallery';
import type { ImageLimits } from './limits';
import { LruCache } from './lru-cache';
import type { Problem } from './problem';
import { checkHeader, corruptImage, decodeOptions, readImageFile } from './source';

export const THUMBNAIL_SIDE = 160;

export interface Thumbnail {
  data: Buffer;
  mime: string;
  /** The source's oriented size, from its header. */
  sourceWidth: number | undefined;
  sourceHeight: number | undefined;
}

const cache = new LruCache<Thumbnail>(16 * 1024 * 1024, (t) => t.data.length);
/** Bounds the files held in memory at once while a page of thumbnails is made. */
const reading = new Semaphore(4);

async function makeThumbnail(entry: GalleryEntry, limits: ImageLimits): Promise<Result<Thumbnail, Problem>> {
  const file = await readImageFile(entry.absolute, limits);
  if (!file.ok) return file;
  const header = await checkHeader(file.value.bytes, limits);
  if (!header.ok) return header;
  try {
    const data = await sharp(file.value.bytes, decodeOptions(limits))
      .autoOrient()
      .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 70 })
      .toBuffer();
    const { width, height } = header.value.autoOrient ?? header.value;
    return ok({ data, mime: 'image/webp', sourceWidth: width, sourceHeight: height });
  } catch (e) {
    return err(corruptImage(e));
  }
}

export async function thumbnail(entry: GalleryEntry, limits: ImageLimits): Promise<Result<Thumbnail, Problem>> {
  const key = `${entry.absolute}|${entry.bytes}|${entry.mtimeMs}`;
  const cached = cache.get(key);
  if (cached) return ok(cached);
  const made = await reading.use(() => makeThumbnail(entry, limits));
  if (made.ok) cache.set(key, made.value);
  return made;
}
