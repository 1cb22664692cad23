/**
 * The face count of an image when it is already known, without running the detector: read from the face sidecar
 * beside a crawler collection (`<rootDir>/faces/<sha256>.json`, written when faces are detected). Only images in
 * a collection (`<rootDir>/img/<sha256>.<ext>`) have one. This is the one place the pages ask; it reads the
 * sidecar's `faces` array, and is meant to call src/collection/faces-store.ts's reader once that lands.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { IMAGE_DIR } from '../collection/layout';

const CONTENT_NAME = /^([0-9a-f]{64})\.[a-z]+$/;

export async function knownFaceCount(imageAbsolute: string): Promise<number | undefined> {
  const match = CONTENT_NAME.exec(path.basename(imageAbsolute));
  if (!match || path.basename(path.dirname(imageAbsolute)) !== IMAGE_DIR) return undefined;
  const sidecar = path.join(path.dirname(path.dirname(imageAbsolute)), 'faces', `${match[1]}.json`);
  try {
    const { faces } = JSON.parse(await fs.readFile(sidecar, 'utf8')) as { faces?: unknown };
    return Array.isArray(faces) ? faces.length : undefined;
  } catch {
    // Absent, unreadable or half-written: the count is simply not known.
    return undefined;
  }
}
