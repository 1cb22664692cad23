/** One OpenCV cascade run on one grey copy of a photo, the way the original design and the previous release ran theirs. */
import path from 'node:path';
import sharp from 'sharp';
import { DEBIAN_CASCADE_DIR } from '../../src/image/cascade';
import { openCv } from '../../src/image/opencv';
import type { Box } from '../../src/image/operations';
import type { DecodedImage } from '../../src/image/source';

export type Detector = (image: DecodedImage) => Promise<Box[]>;

export interface CascadeSetting {
  /** Under Debian's /usr/share/opencv4. */
  file: string;
  scaleFactor: number;
  minNeighbors: number;
  /** Scan a grey copy no longer than this on its longest side (undefined: full size, as the original did). */
  maxSide?: number;
  /** Smallest face as a share of the scanned copy's shorter side, never under 24 px; undefined: no minimum. */
  minShare?: number;
}

/** The original design: OpenCV's LBP frontal-face cascade, detectMultiScale(gray, 1.03, 5) on the full-size image. */
export const ORIGINAL: CascadeSetting = { file: 'lbpcascades/lbpcascade_frontalface.xml', scaleFactor: 1.03, minNeighbors: 5 };

export function cascadeDetector(s: CascadeSetting): Detector {
  const cv = openCv();
  const classifier = new cv.CascadeClassifier(path.join(DEBIAN_CASCADE_DIR, s.file));
  return async (image) => {
    const scale = s.maxSide ? Math.min(1, s.maxSide / Math.max(image.width, image.height)) : 1;
    const width = Math.round(image.width * scale);
    const height = Math.round(image.height * scale);
    const grey = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } }).resize(width, height, { fit: 'fill' }).greyscale().raw().toBuffer();
    const mat = new cv.Mat(grey, height, width, cv.CV_8UC1);
    const min = s.minShare ? Math.max(24, Math.round(Math.min(width, height) * s.minShare)) : 0;
    try {
      const { objects } = await classifier.detectMultiScaleAsync(mat, { scaleFactor: s.scaleFactor, minNeighbors: s.minNeighbors, minSize: new cv.Size(min, min) });
      return objects.map((r) => ({ x: Math.round(r.x / scale), y: Math.round(r.y / scale), width: Math.round(r.width / scale), height: Math.round(r.height / scale) }));
    } finally {
      mat.release();
    }
  };
}
