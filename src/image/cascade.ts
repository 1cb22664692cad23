/**
 * Finds the face cascade files and keeps loaded classifiers for reuse (warm state). A file is looked up where each
 * deployment keeps it: OPENCV_CASCADE_DIR (packaged next to the code), then the npm addon's copy, then Debian's
 * opencv-data.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openCv, type Cv } from './opencv';
import type { CascadeClassifier } from '@u4/opencv4nodejs';

export interface Cascade {
  /** The folder it sits in under Debian's /usr/share/opencv4 (and may sit in under OPENCV_CASCADE_DIR). */
  family: 'lbpcascades' | 'haarcascades';
  file: string;
  /** The npm addon's copy of the same file. */
  packaged: (cv: Cv) => string;
}

/** Chosen by measurement (docs/image.md, "Face detection"): the fast cascade that proposes candidate faces. */
export const PROPOSAL_CASCADE: Cascade = { family: 'lbpcascades', file: 'lbpcascade_frontalface.xml', packaged: (cv) => cv.LBP_FRONTALFACE };
/** The accurate, slow cascade that checks each candidate in a small window around it. */
export const VERIFY_CASCADE: Cascade = { family: 'haarcascades', file: 'haarcascade_frontalface_alt2.xml', packaged: (cv) => cv.HAAR_FRONTALFACE_ALT2 };
export const DEBIAN_CASCADE_DIR = '/usr/share/opencv4';

/** Candidate paths in order of preference; a directory may hold the file directly or under its family folder. */
export function cascadeCandidates(cascade: Cascade, env: NodeJS.ProcessEnv, packagedFile: string | undefined): string[] {
  const inDir = (dir: string) => [path.join(dir, cascade.file), path.join(dir, cascade.family, cascade.file)];
  return [...(env.OPENCV_CASCADE_DIR ? inDir(env.OPENCV_CASCADE_DIR) : []), ...(packagedFile ? [packagedFile] : []), ...inDir(DEBIAN_CASCADE_DIR)];
}

export function findCascadeFile(cascade: Cascade, env: NodeJS.ProcessEnv, packagedFile: string | undefined): string {
  const candidates = cascadeCandidates(cascade, env, packagedFile);
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`face cascade ${cascade.file} not found; looked in: ${candidates.join(', ')}`);
  return found;
}

/**
 * A CascadeClassifier is not thread-safe, and detectMultiScaleAsync runs on libuv's worker threads: two requests
 * sharing one crashed inside OpenCV under load. So each detection borrows a classifier of its own from a pool per
 * cascade; a pool grows to the peak number of concurrent detections and is then reused (warm state).
 */
const idle = new Map<Cascade, CascadeClassifier[]>();

export async function withClassifier<T>(cascade: Cascade, use: (classifier: CascadeClassifier) => Promise<T>): Promise<T> {
  let pool = idle.get(cascade);
  if (!pool) idle.set(cascade, (pool = []));
  let classifier = pool.pop();
  if (!classifier) {
    const cv = openCv();
    classifier = new cv.CascadeClassifier(findCascadeFile(cascade, process.env, cascade.packaged(cv)));
  }
  try {
    return await use(classifier);
  } finally {
    pool.push(classifier);
  }
}
