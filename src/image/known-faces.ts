/**
 * The face count of an image when some instance has already found its faces, without running the detector: the
 * faces sidecar of its content hash (src/collection/faces-store.ts). A gallery tile knows that hash only for a
 * content-addressed file (`img/<sha256>.<ext>`, the crawler's naming); the image page knows it from the bytes.
 */
import path from 'node:path';
import type { FaceStore } from '../collection/faces-store';
import { knownFaces } from './faces';

const CONTENT_NAME = /^([0-9a-f]{64})\.[a-z]+$/;

/** The content hash a file is named by, when it is content-addressed. */
export const contentHashOfName = (file: string): string | undefined => CONTENT_NAME.exec(path.basename(file))?.[1];

export async function knownFaceCount(store: FaceStore | undefined, hash: string | undefined): Promise<number | undefined> {
  return hash === undefined ? undefined : (await knownFaces(store, hash))?.faces.length;
}
