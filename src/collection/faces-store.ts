/**
 * Faces found in an image, kept on the NAS as a sidecar `faces/<sha256>.json` under the NAS root, so that the
 * detector runs once per image and detector version for every FC instance, not once per instance.
 * - Keyed by the image's content hash (the file name) and the detector's version (inside): a sidecar written by
 *   another version is a miss, and the new answer replaces it.
 * - Written by temp file + rename: a reader sees the whole sidecar or none. Two instances that miss at once both
 *   detect and both rename the same answer into place.
 * - A sidecar that cannot be read (corrupt, unreadable) is a miss, and one that cannot be written (read-only NAS,
 *   ENOSPC) costs only the cache: both are logged, and the faces are still answered.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log';
import { writeFileAtomic } from '../nas/atomic-write';
import { FACES_DIR } from './layout';

const box = z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int().positive(), height: z.number().int().positive() });
export type FaceBox = z.infer<typeof box>;

/** What a detection found: the faces, and the size of the (oriented) image their boxes refer to. */
export interface FaceRecord {
  width: number;
  height: number;
  faces: FaceBox[];
}

const sidecar = z.object({
  hash: z.string(),
  detector: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  faces: z.array(box),
  detectedAt: z.string(),
});

export interface FaceStore {
  /** The NAS root. */
  root: string;
  /** The detector's version: answers of other versions are not used. */
  detector: string;
  logger: Logger;
  /** Reads a sidecar's text; fs.readFile unless given (a test counts the reads through it). */
  readText?: (file: string) => Promise<string>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const readUtf8 = (file: string) => fs.readFile(file, 'utf8');

export function facesFile(root: string, hash: string): string {
  if (!SHA256.test(hash)) throw new Error(`not a SHA-256 hex digest: ${JSON.stringify(hash)}`);
  return path.join(root, FACES_DIR, `${hash}.json`);
}

/** The stored faces of the image with this content hash, or undefined when there are none for this detector. */
export async function readFaces(store: FaceStore, hash: string): Promise<FaceRecord | undefined> {
  const file = facesFile(store.root, hash);
  let text: string;
  try {
    text = await (store.readText ?? readUtf8)(file);
  } catch (error) {
    // No sidecar, or no faces folder (a file in its way is reported by the write that follows).
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') store.logger.warn('faces sidecar unreadable; detecting again', { file, error });
    return undefined;
  }
  let parsed;
  try {
    parsed = sidecar.safeParse(JSON.parse(text));
  } catch (error) {
    store.logger.warn('faces sidecar is not JSON; detecting again', { file, error });
    return undefined;
  }
  if (!parsed.success || parsed.data.hash !== hash) {
    store.logger.warn('faces sidecar malformed; detecting again', { file, issues: parsed.success ? 'hash mismatch' : parsed.error.issues.slice(0, 3) });
    return undefined;
  }
  if (parsed.data.detector !== store.detector) return undefined;
  const { width, height, faces } = parsed.data;
  return { width, height, faces };
}

/** Stores the faces; throws when the NAS refuses (the caller decides what a failed write costs). */
export async function writeFaces(store: FaceStore, hash: string, record: FaceRecord): Promise<void> {
  const file = facesFile(store.root, hash);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const body = { hash, detector: store.detector, width: record.width, height: record.height, faces: record.faces, detectedAt: new Date().toISOString() };
  await writeFileAtomic(file, JSON.stringify(body) + '\n');
}

/** Stores the faces for every instance; a failed write is logged and costs only the cache. Resolves to whether it was stored. */
export async function keepFaces(store: FaceStore, hash: string, record: FaceRecord): Promise<boolean> {
  try {
    await writeFaces(store, hash, record);
    return true;
  } catch (error) {
    store.logger.warn('faces sidecar not written; answering without it', { file: facesFile(store.root, hash), code: (error as NodeJS.ErrnoException).code, error });
    return false;
  }
}
