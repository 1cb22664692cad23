/**
 * Finds the face cascade file and keeps loaded classifiers for reuse (warm state). The file is looked up where each deployment
 * keeps it: OPENCV_CASCADE_DIR (packaged next to the code), then the npm addon's copy, then Debian's opencv-data.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openCv } from './opencv';
import type { CascadeClassifier } from '@u4/opencv4nodejs';

/** Chosen by measurement (README, "Face detection"): no false positives on 16 face-free photos, and fast. */
export const FACE_CASCADE_FILE = 'lbpcascade_frontalface_improved.xml';
const FAMILY_DIR = 'lbpcascades';
export const DEBIAN_CASCADE_DIR = '/usr/share/opencv4';

/** Candidate paths in order of preference; a directory may hold the file directly or under lbpcascades/. */
export function cascadeCandidates(env: NodeJS.ProcessEnv, packagedFile: string | undefined): string[] {
  const inDir = (dir: string) => [path.join(dir, FACE_CASCADE_FILE), path.join(dir, FAMILY_DIR, FACE_CASCADE_FILE)];
  return [
    ...(env.OPENCV_CASCADE_DIR ? inDir(env.OPENCV_CASCADE_DIR) : []),
    ...(packagedFile ? [packagedFile] : []),
    ...inDir(DEBIAN_CASCADE_DIR),
  ];
}

export function findCascadeFile(env: NodeJS.ProcessEnv, packagedFile: string | undefined): string {
  const candidates = cascadeCandidates(env, packagedFile);
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`face cascade ${FACE_CASCADE_FILE} not found; looked in: ${candidates.join(', ')}`);
  return found;
}

/**
 * A CascadeClassifier is not thread-safe, and detectMultiScaleAsync runs on libuv's worker threads: two requests
 * sharing one crashed inside OpenCV under load. So each detection borrows a classifier of its own from this pool;
 * the pool grows to the peak number of concurrent detections and is then reused (warm state).
 */
const idle: CascadeClassifier[] = [];

export async function withFaceClassifier<T>(use: (classifier: CascadeClassifier) => Promise<T>): Promise<T> {
  let classifier = idle.pop();
  if (!classifier) {
    const cv = openCv();
    classifier = new cv.CascadeClassifier(findCascadeFile(process.env, cv.LBP_FRONTALFACE_IMPROVED));
  }
  try {
    return await use(classifier);
  } finally {
    idle.push(classifier);
  }
}
