/**
 * Face detection with OpenCV's LBP "improved" frontal cascade on a grey copy no larger than 800 px on its
 * longest side, then the boxes are scaled back. Parameters and the cascade were chosen by measurement on
 * real photos (bench/image-choices.ts, README "Face detection").
 */
import sharp from 'sharp';
import { withFaceClassifier } from './cascade';
import { openCv } from './opencv';
import type { Box } from './operations';
import type { DecodedImage } from './source';

export const DETECTION = {
  maxSide: 800,
  /** 1.2 rather than 1.1: the same faces on the measured photos in about half the time. */
  scaleFactor: 1.2,
  minNeighbors: 3,
  /** Smallest face: this share of the shorter side, but never under the cascade's own 24 px window. */
  minFaceShare: 0.05,
  minFacePixels: 24,
} as const;

export async function detectFaces(image: DecodedImage): Promise<Box[]> {
  const scale = Math.min(1, DETECTION.maxSide / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const grey = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .flatten({ background: '#ffffff' })
    .resize(width, height, { fit: 'fill' })
    .greyscale()
    .raw()
    .toBuffer();
  const cv = openCv();
  const mat = new cv.Mat(grey, height, width, cv.CV_8UC1);
  const side = Math.max(DETECTION.minFacePixels, Math.round(Math.min(width, height) * DETECTION.minFaceShare));
  // V8 does not see the Mat's pixels (tracking is off, see opencv.ts), so they are freed here rather than at some GC.
  const { objects } = await withFaceClassifier((classifier) =>
    classifier.detectMultiScaleAsync(mat, {
      scaleFactor: DETECTION.scaleFactor,
      minNeighbors: DETECTION.minNeighbors,
      minSize: new cv.Size(side, side),
    }),
  ).finally(() => mat.release());
  return objects.map((r) => {
    const x = Math.round(r.x / scale);
    const y = Math.round(r.y / scale);
    return { x, y, width: Math.min(image.width - x, Math.round(r.width / scale)), height: Math.min(image.height - y, Math.round(r.height / scale)) };
  });
}
