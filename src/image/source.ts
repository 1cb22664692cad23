/**
 * Reading and decoding an untrusted image file. Every refusal happens as early as it can: the byte cap before
 * reading, the magic bytes before sharp sees the data, the pixel cap from the header before decoding.
 */
import { createHash } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { sniffImageType, type ImageExtension } from '../collection/image-type';
import { err, ok, type Result } from '../result';
import type { ImageLimits } from './limits';
import { LruCache } from './lru-cache';
import { problem, type Problem } from './problem';

export interface ImageFile {
  bytes: Buffer;
  type: ImageExtension;
  /** sha256 of the bytes, hex: the basis of the ETag and of the result cache key. */
  hash: string;
}

/** Oriented, first-frame, 8-bit sRGB pixels: every operation starts from here. */
export interface DecodedImage {
  pixels: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

const MiB = 1024 * 1024;
export const byteSize = (n: number) => (n >= MiB / 10 ? `${(n / MiB).toFixed(1)} MiB` : `${n} bytes`);
const pixelCount = (n: number) => (n >= 100_000 ? `${(n / 1e6).toFixed(1)} MP` : `${n} pixels`);
const tooLarge = (bytes: number, limits: ImageLimits) =>
  problem(413, `image file is ${byteSize(bytes)}; the limit is ${byteSize(limits.maxBytes)}`);

/**
 * Content hashes by file identity, per instance. The crawler never rewrites an image in place (it renames a new
 * file over it, a new inode), so a file with the same inode, size and times as when it was hashed holds the same
 * bytes; a viewer going from page to rotate to facedetect then hashes the file once.
 */
const hashes = new LruCache<string>(2 * 1024 * 1024, () => 200);
const identity = (s: Stats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** `absolute` must come from resolveNasPath (src/nas/safe-path.ts) or a walk that skips symlinks. */
export async function readImageFile(absolute: string, limits: ImageLimits): Promise<Result<ImageFile, Problem>> {
  // O_NOFOLLOW: the resolved path must not have been swapped for a symlink since; O_NONBLOCK: a FIFO cannot hang us.
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return err(problem(404, 'no such image'));
    if (code === 'ELOOP') return err(problem(403, 'the file was replaced by a symlink'));
    if (code === 'EACCES' || code === 'EPERM') return err(problem(403, 'permission denied'));
    throw e;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return err(problem(404, 'not a regular file'));
    if (stats.size > limits.maxBytes) return err(tooLarge(stats.size, limits));
    const bytes = await handle.readFile();
    if (bytes.length > limits.maxBytes) return err(tooLarge(bytes.length, limits));
    const type = sniffImageType(bytes);
    if (!type) return err(problem(415, 'not an image: the file does not start with a JPEG, PNG, GIF, WebP, AVIF or TIFF signature'));
    // Changed while being read: hash what was read, and remember nothing.
    const key = identity(stats);
    if (key !== identity(await handle.stat())) return ok({ bytes, type, hash: sha256(bytes) });
    let hash = hashes.get(key);
    if (!hash) {
      hash = sha256(bytes);
      hashes.set(key, hash);
    }
    return ok({ bytes, type, hash });
  } finally {
    await handle.close();
  }
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** sharp's input options for untrusted data: first frame only, pixel cap enforced by libvips too. */
export const decodeOptions = (limits: ImageLimits): SharpOptions => ({ pages: 1, limitInputPixels: limits.maxPixels, failOn: 'error' });

/** Reads the header only and refuses pixel bombs before any decoding. */
export async function checkHeader(bytes: Buffer, limits: ImageLimits): Promise<Result<Metadata, Problem>> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { pages: 1, limitInputPixels: false }).metadata();
  } catch (e) {
    const message = describe(e);
    if (/unsupported image format/i.test(message)) return err(problem(415, `unsupported image format: ${message}`));
    return err(problem(422, `the image header cannot be read: ${message}`));
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width * height > limits.maxPixels) {
    return err(problem(413, `image is ${width}x${height} = ${pixelCount(width * height)}; the limit is ${pixelCount(limits.maxPixels)}`));
  }
  return ok(meta);
}

/** Decodes the first frame, EXIF-oriented, into 8-bit sRGB pixels. */
export async function decodeImage(bytes: Buffer, limits: ImageLimits): Promise<Result<DecodedImage, Problem>> {
  const header = await checkHeader(bytes, limits);
  if (!header.ok) return header;
  try {
    const { data, info } = await sharp(bytes, decodeOptions(limits))
      .autoOrient()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return ok({ pixels: data, width: info.width, height: info.height, channels: info.channels === 4 ? 4 : 3 });
  } catch (e) {
    return err(corruptImage(e));
  }
}

export const corruptImage = (e: unknown) => problem(422, `the image data is corrupt or truncated: ${describe(e)}`);
