/**
 * Face detection in two steps (chosen by measurement on the labelled set of bench/faces/, docs/image.md):
 * 1. OpenCV's plain LBP frontal cascade proposes candidates on a grey copy enlarged by 1.25, so that faces down to
 *    20 px fill its 24 px window; with a coarse scale step (1.18) and one neighbour it is fast and misses little.
 * 2. Haar frontalface_alt2, accurate but slow on a whole photo, checks each candidate in a small window around it,
 *    scaled so the candidate is 40 px wide; only confirmed candidates are faces.
 * Large photos are first scaled down to DETECTION.maxPixels, which bounds the time. The proposal scan is almost all
 * of the time, and its cost is set by the smallest face looked for: each step of the scale pyramid costs about the
 * pixels of the copy over the step's scale squared.
 */
import sharp from 'sharp';
import type { Mat, Rect } from '@u4/opencv4nodejs';
import { keepFaces, readFaces, type FaceRecord, type FaceStore } from '../collection/faces-store';
import type { Logger } from '../log';
import { PROPOSAL_CASCADE, VERIFY_CASCADE, withClassifier } from './cascade';
import { LruCache } from './lru-cache';
import { openCv } from './opencv';
import type { Box } from './operations';
import type { DecodedImage } from './source';

export const DETECTION = {
  /** Enlargement of small photos: a 20 px face becomes 25 px, over the cascade's 24 px window. */
  upscale: 1.25,
  /** Pixels of the grey copy the proposal step scans at most: the scan's cost grows with them. */
  maxPixels: 1_000_000,
  proposal: { scaleFactor: 1.18, minNeighbors: 1, minSize: 24 },
  /** Context around a candidate, as a share of its size on each side. */
  verifyMargin: 0.5,
  /** The candidate's width in the verification window. */
  verifySize: 40,
  verify: { scaleFactor: 1.15, minNeighbors: 3, minShare: 0.6, maxShare: 1.6 },
} as const;

/**
 * Names what produces the boxes: a stored answer (src/collection/faces-store.ts) made under another version is
 * computed again. Change it whenever the cascades, the parameters or the steps change.
 */
export const DETECTOR_VERSION = 'lbp-frontalface-1.18x1-up1.25+haar-alt2-1.15-verify/2';

/** How much the photo is scaled for detection: enlarged when small, shrunk when over maxPixels. */
export function detectionScale(width: number, height: number): number {
  return Math.min(DETECTION.upscale, Math.sqrt(DETECTION.maxPixels / (width * height)));
}

/**
 * The photo in grey at `scale`, made by OpenCV (a sharp pipeline cost 20 times as much here, most of it per call).
 * Transparency is first laid over white, as the page shows it.
 */
async function greyCopy(image: DecodedImage, scale: number): Promise<Mat> {
  const cv = openCv();
  const rgb =
    image.channels === 4
      ? await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 4 } }).flatten({ background: '#ffffff' }).raw().toBuffer()
      : image.pixels;
  const colour = new cv.Mat(rgb, image.height, image.width, cv.CV_8UC3);
  const grey = await colour.cvtColorAsync(cv.COLOR_RGB2GRAY);
  colour.release();
  if (scale === 1) return grey;
  const size = new cv.Size(Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)));
  const resized = await grey.resizeAsync(size, 0, 0, scale > 1 ? cv.INTER_LINEAR : cv.INTER_AREA);
  grey.release();
  return resized;
}

/** Whether the verifying cascade finds a face of about the candidate's size in a window around it. */
async function confirmed(grey: Mat, candidate: Rect): Promise<boolean> {
  const cv = openCv();
  const margin = Math.round(candidate.width * DETECTION.verifyMargin);
  const x = Math.max(0, candidate.x - margin);
  const y = Math.max(0, candidate.y - margin);
  const region = grey.getRegion(new cv.Rect(x, y, Math.min(grey.cols, candidate.x + candidate.width + margin) - x, Math.min(grey.rows, candidate.y + candidate.height + margin) - y));
  // The region is a view into the grey copy; released at once, it does not keep the copy's pixels alive until some GC.
  const window = region.rescale(DETECTION.verifySize / candidate.width);
  region.release();
  const { verify, verifySize } = DETECTION;
  try {
    const { objects } = await withClassifier(VERIFY_CASCADE, (classifier) =>
      classifier.detectMultiScaleAsync(window, {
        scaleFactor: verify.scaleFactor,
        minNeighbors: verify.minNeighbors,
        minSize: new cv.Size(Math.round(verifySize * verify.minShare), Math.round(verifySize * verify.minShare)),
        maxSize: new cv.Size(Math.round(verifySize * verify.maxShare), Math.round(verifySize * verify.maxShare)),
      }),
    );
    return objects.length > 0;
  } finally {
    window.release();
  }
}

export async function detectFaces(image: DecodedImage): Promise<Box[]> {
  const scale = detectionScale(image.width, image.height);
  const cv = openCv();
  // V8 does not see the Mat's pixels (tracking is off, see opencv.ts), so they are freed here rather than at some GC.
  const mat = await greyCopy(image, scale);
  try {
    const { proposal } = DETECTION;
    const { objects } = await withClassifier(PROPOSAL_CASCADE, (classifier) =>
      classifier.detectMultiScaleAsync(mat, {
        scaleFactor: proposal.scaleFactor,
        minNeighbors: proposal.minNeighbors,
        minSize: new cv.Size(proposal.minSize, proposal.minSize),
      }),
    );
    const faces: Box[] = [];
    for (const r of objects) {
      if (!(await confirmed(mat, r))) continue;
      const x = Math.round(r.x / scale);
      const y = Math.round(r.y / scale);
      faces.push({ x, y, width: Math.min(image.width - x, Math.round(r.width / scale)), height: Math.min(image.height - y, Math.round(r.height / scale)) });
    }
    return faces;
  } finally {
    mat.release();
  }
}

/**
 * This detector's sidecar store on the NAS at `root` (src/collection/faces-store.ts), or undefined when
 * IMAGE_FACE_STORE=off (benchmarks that measure the detector itself).
 */
export function faceStore(root: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): FaceStore | undefined {
  return env.IMAGE_FACE_STORE === 'off' ? undefined : { root, detector: DETECTOR_VERSION, logger };
}

/**
 * Answers this instance has read from sidecars or detected, in front of the NAS: an answer never changes for an
 * image's content and a detector version, so repeated requests for the same image's faces read the NAS once.
 * Records are about a hundred bytes: 1 MiB keeps thousands.
 */
const remembered = new LruCache<FaceRecord>(1 << 20, (record) => 96 + 64 * record.faces.length);
const memoryKey = (store: FaceStore, hash: string) => `${store.root}\0${store.detector}\0${hash}`;

/** The faces of an image when some instance has already found them, without detecting. */
export async function knownFaces(store: FaceStore | undefined, hash: string): Promise<FaceRecord | undefined> {
  if (!store) return undefined;
  const key = memoryKey(store, hash);
  const record = remembered.get(key) ?? (await readFaces(store, hash));
  if (record) remembered.set(key, record);
  return record;
}

/**
 * The faces of a decoded image that knownFaces() did not know: detected, and stored for every instance (and
 * remembered here, even when the NAS refused the sidecar).
 */
export async function detectedFaces(store: FaceStore | undefined, hash: string, image: DecodedImage): Promise<FaceRecord> {
  const record = { width: image.width, height: image.height, faces: await detectFaces(image) };
  if (store) {
    await keepFaces(store, hash, record);
    remembered.set(memoryKey(store, hash), record);
  }
  return record;
}
