/**
 * The labelled face set of bench/faces/set/ (made by make-set.py, committed with its labels) and how detections
 * are scored against it. Used by npm run bench:faces and by test/image/face-recall.test.ts.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Box } from '../../src/image/operations';

export const FACE_SET_DIR = path.join(__dirname, 'set');
/** Faces up to this width count as small (the 20–48 px). */
export const SMALL_FACE = 48;

export interface LabelledFace extends Box {
  /** Turned about 45° away from the camera: frontal-face detectors are not made for it. */
  turned?: boolean;
}

export interface LabelledImage {
  file: string;
  width: number;
  height: number;
  /** A scene composed by make-set.py, rather than a photo as taken. */
  composed: boolean;
  faces: LabelledFace[];
}

export function faceSet(): LabelledImage[] {
  const labels = JSON.parse(readFileSync(path.join(FACE_SET_DIR, 'labels.json'), 'utf8')) as { images: Record<string, Omit<LabelledImage, 'file'>> };
  return Object.entries(labels.images).map(([file, label]) => ({ file, ...label }));
}

export const readLabelled = (image: LabelledImage): Promise<Buffer> => readFile(path.join(FACE_SET_DIR, image.file));

export interface Score {
  faces: number;
  found: number;
  smallFaces: number;
  smallFound: number;
  falsePositives: number;
}

export const emptyScore = (): Score => ({ faces: 0, found: 0, smallFaces: 0, smallFound: 0, falsePositives: 0 });

/**
 * A detection finds a labelled face when the detection's centre lies inside the labelled box (labels of pasted
 * crops are tight, cascade boxes are a little larger, so IoU would punish good finds). Each label is found at most
 * once; every detection that finds no label, including a second box on the same face, is a false positive.
 */
export function score(image: LabelledImage, detections: readonly Box[], into: Score = emptyScore()): Score {
  const found = image.faces.map(() => false);
  for (const d of detections) {
    const cx = d.x + d.width / 2;
    const cy = d.y + d.height / 2;
    const i = image.faces.findIndex((f, j) => !found[j] && cx >= f.x && cx <= f.x + f.width && cy >= f.y && cy <= f.y + f.height);
    if (i < 0) into.falsePositives++;
    else found[i] = true;
  }
  image.faces.forEach((f, i) => {
    into.faces++;
    if (found[i]) into.found++;
    if (f.width <= SMALL_FACE) {
      into.smallFaces++;
      if (found[i]) into.smallFound++;
    }
  });
  return into;
}
