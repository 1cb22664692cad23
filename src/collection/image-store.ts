/**
 * Content-addressed image files: `rootDir/img/<sha256>.<ext>`, so identical content is stored once. A file is
 * written in the temp folder (crawl-state/tmp/) and renamed into img/, so img/ never holds a partial file.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Sharp from 'sharp';
import { writeFileAtomic } from '../nas/atomic-write';
import { err, ok, type Result } from '../result';
import { sniffImageType } from './image-type';
import { IMAGE_DIR, TEMP_DIR } from './layout';

/**
 * sharp (and libvips) are loaded by the first image a process checks, not at start-up: a crawler process is a cold
 * start, and most timer runs of a crawl that has seen its site save no new image. Loading them takes 30–40 ms.
 */
let sharp: Promise<typeof Sharp> | undefined;
const loadSharp = () => (sharp ??= import('sharp').then((module) => module.default));

export interface StoredImage {
  /** Relative to rootDir: img/<sha256>.<ext>. */
  file: string;
  bytes: number;
  width: number;
  height: number;
}

export async function storeImage(rootDir: string, body: Buffer): Promise<Result<StoredImage>> {
  const ext = sniffImageType(body);
  if (!ext) return err('not an image (its first bytes match no known image format)');
  // libvips as sharp ships it has no BMP loader: such a file could be neither checked nor shown by the image function.
  if (ext === 'bmp') return err('a BMP image, not saved: the installed sharp cannot decode BMP');
  let width: number | undefined;
  let height: number | undefined;
  try {
    // Reads the header only: cheap, and it rejects a file whose magic bytes lie.
    ({ width, height } = await (await loadSharp())(body).metadata());
  } catch (e) {
    return err(`unreadable ${ext} image: ${(e as Error).message}`);
  }
  if (!width || !height) return err(`unreadable ${ext} image: no dimensions`);
  const file = `${IMAGE_DIR}/${createHash('sha256').update(body).digest('hex')}.${ext}`;
  const target = path.join(rootDir, file);
  if (!(await exists(target))) await writeFileAtomic(target, body, path.join(rootDir, TEMP_DIR));
  return ok({ file, bytes: body.length, width, height });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
